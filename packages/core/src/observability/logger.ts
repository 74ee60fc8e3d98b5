// Logging: JSON lines. Secrets never reach a log line: known secret-bearing fields are redacted by
// path, and query strings in URIs are scrubbed of credential-like parameters before logging.
//
// The line format is pino's (level number, epoch-ms time, name, fields, msg; the `err` field as
// pino-std-serializers writes it), so that log pipelines built for pino and edgemicro read it. The
// writer is our own: pino and its dependencies cost about 1 MiB more idle RSS in the same window
// for no more requests per CPU-second with the access log on (bench/ANALYSIS.md, item 21). The
// default destination is an asynchronous sonic-boom on fd 1, flushed at exit. A logging call never
// throws: a value JSON cannot hold (a cycle, a BigInt) is written safely, and a field whose
// serialization throws is replaced by a note in `logError`.
import { createRequire } from 'node:module';
import { format } from 'node:util';
import type { SonicBoom } from 'sonic-boom';
import type { LogConfig } from '../config/types.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

/** A log method: `(fields, message)` or `(message)`. */
export interface LogFn {
  (obj: object | null | undefined, msg?: string): void;
  (msg: string): void;
}

/** The logger the engine, its plugins and the cluster supervisor log through (pino's shape: a pino
 *  logger can be given instead). */
export interface Logger {
  /** trace, debug, info, warn, error, fatal or silent. */
  level: string;
  isLevelEnabled(level: string): boolean;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger adding `bindings` to every line (it follows this logger's level until given its own). */
  child(bindings: Record<string, unknown>): Logger;
}

const CENSOR = '[redacted]';
// Redaction: these top-level fields are always censored; in any other top-level object value, these
// fields one level down, and in `headers` also x-api-key and cookie.
const TOP_LEVEL = new Set(['key', 'passphrase', 'password', 'secret', 'token', 'authorization']);
const ANY_FIELD = ['key', 'passphrase', 'password', 'secret', 'token', 'authorization'];
const HEADER_FIELD = [...ANY_FIELD, 'authorization', 'x-api-key', 'cookie'];
const CENSORED = JSON.stringify(CENSOR);

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LABELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
/** pino's level values: the six levels and silent. */
function levelValue(level: string | number): number | undefined {
  if (typeof level === 'number') return LABELS[level] !== undefined || level === Infinity ? level : undefined;
  if (level === 'silent') return Infinity;
  return Object.hasOwn(LEVELS, level) ? LEVELS[level] : undefined;
}

const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);
const require = createRequire(import.meta.url);

/** pino's string quoting (Node < 25): JSON.stringify for long strings or control characters. */
export function asString(str: string): string {
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  for (let i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += str.slice(last, i) + '\\';
      last = i;
      found = true;
    }
  }
  if (!found) result = str;
  else result += str.slice(last);
  return point < 32 ? JSON.stringify(str) : '"' + result + '"';
}

/** JSON.stringify for what it refuses: a cycle becomes "[Circular]", a BigInt its decimal digits
 *  (as safe-stable-stringify, which pino uses). Only called once plain JSON.stringify has thrown. */
function safeStringify(value: unknown, original: unknown): string | undefined {
  const ancestors: unknown[] = [];
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (typeof v !== 'object' || v === null) return v;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    // `value` is a censored copy of `original`: a reference back to the original is a cycle too.
    if (ancestors.includes(v) || (v === original && ancestors.length > 0)) return '[Circular]';
    ancestors.push(v);
    return v;
  });
}

/** One value with the named own fields censored (the REDACT paths are one level deep), serialized:
 *  a shallow clone, so the caller's object is not touched. */
function redacted(value: unknown, fields: readonly string[]): string | undefined {
  let clone = value;
  if (value !== null && typeof value === 'object') {
    if (value instanceof Date) clone = new Date(value.getTime());
    else if (Array.isArray(value)) {
      const copy: unknown[] = [];
      for (let i = 0; i < value.length; i++) copy[i] = value[i];
      clone = copy;
    } else {
      const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
      for (const k in value) if (hasOwn(value, k)) copy[k] = (value as Record<string, unknown>)[k];
      clone = copy;
    }
    const c = clone as Record<string, unknown>;
    for (const f of fields) {
      if (!(f in c)) continue;
      if (hasOwn(c, f)) c[f] = CENSOR;
    }
  }
  try {
    return JSON.stringify(clone);
  } catch {
    return safeStringify(clone, value);
  }
}

/** The serialized value of top-level field `key` (or undefined: left out). */
function fieldValue(key: string, value: unknown): string | undefined {
  if (TOP_LEVEL.has(key)) return CENSORED;
  return redacted(value, key === 'headers' ? HEADER_FIELD : ANY_FIELD);
}

// The `err` field as pino-std-serializers writes it: type, message and stack with their causes.
const rawSymbol = Symbol('pino-raw-err-ref');
const seen = Symbol('circular-ref-tag');
const errProto = Object.create(
  {},
  {
    type: { enumerable: true, writable: true, value: undefined },
    message: { enumerable: true, writable: true, value: undefined },
    stack: { enumerable: true, writable: true, value: undefined },
    aggregateErrors: { enumerable: true, writable: true, value: undefined },
    raw: {
      enumerable: false,
      get(this: Record<symbol, unknown>) {
        return this[rawSymbol];
      },
      set(this: Record<symbol, unknown>, val: unknown) {
        this[rawSymbol] = val;
      },
    },
  },
) as object;
Object.defineProperty(errProto, rawSymbol, { writable: true, value: {} });

type ErrorLike = { message: string; stack?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
const isErrorLike = (err: unknown): err is ErrorLike =>
  !!err && typeof (err as { message?: unknown }).message === 'string';

function errorCause(err: ErrorLike): ErrorLike | undefined {
  const cause = err.cause;
  if (typeof cause === 'function') {
    const result = (err as { cause: () => unknown }).cause();
    return isErrorLike(result) ? result : undefined;
  }
  return isErrorLike(cause) ? cause : undefined;
}

function stackWithCauses(err: unknown, done: Set<unknown>): string {
  if (!isErrorLike(err)) return '';
  const stack = (err.stack || '') as string;
  if (done.has(err)) return stack + '\ncauses have become circular...';
  const cause = errorCause(err);
  if (!cause) return stack;
  done.add(err);
  return stack + '\ncaused by: ' + stackWithCauses(cause, done);
}

function messageWithCauses(err: unknown, done: Set<unknown>, skip = false): string {
  if (!isErrorLike(err)) return '';
  const message = skip ? '' : err.message || '';
  if (done.has(err)) return message + ': ...';
  const cause = errorCause(err);
  if (!cause) return message;
  done.add(err);
  const vErrorStyle = typeof err.cause === 'function';
  return message + (vErrorStyle ? '' : ': ') + messageWithCauses(cause, done, vErrorStyle);
}

function serializeError(err: unknown): unknown {
  if (!isErrorLike(err)) return err;
  const e = err as ErrorLike & Record<PropertyKey, unknown>;
  e[seen] = undefined;
  const out = Object.create(errProto) as Record<string, unknown>;
  out.type =
    Object.prototype.toString.call(e.constructor) === '[object Function]'
      ? (e.constructor as { name: string }).name
      : e.name;
  out.message = messageWithCauses(e, new Set());
  out.stack = stackWithCauses(e, new Set());
  if (Array.isArray(e.errors)) out.aggregateErrors = e.errors.map((x: unknown) => serializeError(x));
  for (const key in e) {
    if (out[key] === undefined) {
      const val = e[key];
      if (isErrorLike(val)) {
        if (key !== 'cause' && !hasOwn(val, seen)) out[key] = serializeError(val);
      } else out[key] = val;
    }
  }
  delete e[seen];
  out.raw = e;
  return out;
}

/** `,"key":value` for each binding of a child logger (pino's reserved names left out). */
function bindingsText(bindings: Record<string, unknown>): string {
  let data = '';
  for (const key in bindings) {
    let value = bindings[key];
    const valid =
      (key.length < 5 ||
        (key !== 'level' && key !== 'serializers' && key !== 'formatters' && key !== 'customLevels')) &&
      hasOwn(bindings, key) &&
      value !== undefined;
    if (!valid) continue;
    if (key === 'err') value = serializeError(value);
    const text = fieldValue(key, value);
    if (text === undefined) continue;
    data += ',' + asString(key) + ':' + text;
  }
  return data;
}

/** The line for `obj` and `msg` at level `num`. */
function lineFor(chindings: string, obj: Record<string, unknown>, msg: unknown, num: number): string {
  const time = Date.now();
  let propStr = '';
  for (const key in obj) {
    let value = obj[key];
    if (!hasOwn(obj, key) || value === undefined) continue;
    if (key === 'err') value = serializeError(value);
    let text: string | undefined;
    switch (typeof value) {
      case 'undefined':
      case 'function':
        continue;
      case 'number':
        text = fieldValue(key, Number.isFinite(value) ? value : null);
        break;
      default:
        text = fieldValue(key, value);
    }
    if (text === undefined) continue;
    propStr += ',' + asString(key) + ':' + text;
  }
  let msgStr = '';
  if (msg !== undefined && typeof msg !== 'function') {
    const value = typeof msg === 'number' && !Number.isFinite(msg) ? null : msg;
    msgStr = ',"msg":' + redacted(value, ANY_FIELD);
  }
  return '{"level":' + num + ',"time":' + time + chindings + propStr + msgStr + '}\n';
}

type Destination = { write(line: string): unknown; flushSync?: () => void };

/** Each logger's state lives in properties, and a child is made with Object.create: a child
 *  follows its parent's level until it is given its own. */
class JsonLogger implements Logger {
  declare _levelVal: number;
  /** `,"name":"gatehouse"` and the bindings of each child down to this one. */
  declare _chindings: string;
  declare _stream: Destination;

  get level(): string {
    return this._levelVal === Infinity ? 'silent' : (LABELS[this._levelVal] ?? '');
  }

  set level(level: string | number) {
    const value = levelValue(level);
    if (value === undefined)
      throw Error(typeof level === 'number' ? 'unknown level value' + level : 'unknown level ' + level);
    this._levelVal = value;
  }

  isLevelEnabled(level: string): boolean {
    const value = typeof level === 'string' ? levelValue(level) : undefined;
    return value !== undefined && value >= this._levelVal;
  }

  child(bindings: Record<string, unknown>): Logger {
    if (!bindings) throw Error('missing bindings for child logger');
    const child = Object.create(this) as JsonLogger;
    let text: string;
    try {
      text = bindingsText(bindings);
    } catch (err) {
      text = ',"logError":' + asString(`bindings not serializable: ${(err as Error)?.message ?? err}`);
    }
    child._chindings = this._chindings + text;
    return child;
  }

  trace(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal <= 10) this.write(10, o, n);
  }
  debug(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal <= 20) this.write(20, o, n);
  }
  info(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal <= 30) this.write(30, o, n);
  }
  warn(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal <= 40) this.write(40, o, n);
  }
  error(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal <= 50) this.write(50, o, n);
  }
  fatal(o?: unknown, ...n: unknown[]): void {
    if (this._levelVal > 60) return;
    this.write(60, o, n);
    if (typeof this._stream.flushSync === 'function') {
      try {
        this._stream.flushSync();
      } catch {
        // A stream not ready to flush is left to flush itself.
      }
    }
  }

  private write(num: number, o: unknown, n: unknown[]): void {
    let line: string;
    try {
      line = this.line(num, o, n);
    } catch (err) {
      // A getter or toJSON that throws: the line says so instead of the logging call throwing.
      const note = `a field could not be serialized: ${(err as Error)?.message ?? err}`;
      line = lineFor(this._chindings, { logError: note }, undefined, num);
    }
    this._stream.write(line);
  }

  private line(num: number, o: unknown, n: unknown[]): string {
    let msg: unknown;
    let fields: Record<string, unknown>;
    if (typeof o === 'object') msg = o === null && n.length === 0 ? null : n[0];
    else msg = o === undefined ? n[0] : o;
    // printf-style arguments after the message: `log.info('%s took %d ms', what, ms)`.
    const rest = typeof o === 'object' || o === undefined ? n.length - 1 : n.length;
    if (rest > 0 && typeof msg === 'string') msg = format(msg, ...n.slice(n.length - rest));
    if (typeof o !== 'object' || o === null) fields = {};
    else if (o instanceof Error) {
      fields = { err: o };
      if (msg === undefined) msg = o.message;
    } else {
      fields = httpObject(o) ?? (o as Record<string, unknown>);
      if (msg === undefined && fields.msg === undefined && fields.err)
        msg = (fields.err as { message?: unknown }).message;
    }
    return lineFor(this._chindings, fields, msg, num);
  }
}

const REQUEST_HEADERS_REDACTED = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie'];

/** A node request or response passed as the fields (a plugin's `log.info(req)`): its method, URL and
 *  headers (credentials censored), or its status, rather than the object with its socket. */
function httpObject(o: object): Record<string, unknown> | undefined {
  const r = o as {
    method?: string;
    url?: string;
    headers?: Record<string, unknown>;
    socket?: { remoteAddress?: string; remotePort?: number };
    setHeader?: unknown;
    statusCode?: number;
    getHeaders?: () => Record<string, unknown>;
  };
  if (r.method && r.headers && r.socket) {
    const headers: Record<string, unknown> = { ...r.headers };
    for (const h of REQUEST_HEADERS_REDACTED) if (hasOwn(headers, h)) headers[h] = CENSOR;
    return {
      req: {
        method: r.method,
        url: r.url,
        headers,
        remoteAddress: r.socket.remoteAddress,
        remotePort: r.socket.remotePort,
      },
    };
  }
  if (typeof r.setHeader === 'function') return { res: { statusCode: r.statusCode } };
  return undefined;
}

/** pino's default destination: sonic-boom on fd 1 (asynchronous), flushed at exit, silenced on EPIPE;
 *  process.stdout itself when its write was replaced. */
function stdoutDestination(): Destination {
  const stdout = process.stdout;
  if (stdout.write !== (stdout.constructor as { prototype: { write: unknown } }).prototype.write)
    return stdout;
  return buildSafeSonicBoom({ fd: stdout.fd || 1 });
}

/** pino's buildSafeSonicBoom (tools.js): EPIPE stops logging; an asynchronous stream is flushed when
 *  the process exits. */
export function buildSafeSonicBoom(opts: ConstructorParameters<typeof SonicBoom>[0]): SonicBoom {
  const SonicBoomCtor = require('sonic-boom') as typeof SonicBoom;
  const onExit = require('on-exit-leak-free') as {
    register(obj: object, fn: (obj: SonicBoom, event: string) => void): void;
    unregister(obj: object): void;
  };
  const noop = (): void => undefined;
  const stream = new SonicBoomCtor(opts);
  const filterBrokenPipe = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') {
      stream.write = noop as never;
      stream.end = noop;
      stream.flushSync = noop;
      stream.destroy = noop;
      return;
    }
    stream.removeListener('error', filterBrokenPipe);
    stream.emit('error', err);
  };
  stream.on('error', filterBrokenPipe);
  if (!opts.sync) {
    // pino registers this on the main thread only. Which thread this is, autoEnd asks when the process
    // exits: node:worker_threads is not loaded at start-up for it (util/lazy-builtin.ts).
    onExit.register(stream, autoEnd);
    stream.on('close', () => onExit.unregister(stream));
  }
  return stream;
}

const workerThreads = lazyBuiltin('node:worker_threads');

function autoEnd(stream: SonicBoom, eventName: string): void {
  if (!workerThreads().isMainThread) return; // a worker thread's stream is not flushed at exit, as in pino
  if ((stream as unknown as { destroyed: boolean }).destroyed) return;
  if (eventName === 'beforeExit') {
    stream.flush();
    stream.on('drain', () => stream.end());
  } else stream.flushSync();
}

export function createLogger(config: LogConfig | undefined, destination?: NodeJS.WritableStream): Logger {
  let level: string = config?.level ?? 'info';
  if (typeof level === 'string' && LEVELS[level.toLowerCase()] !== undefined) level = level.toLowerCase();
  const logger = new JsonLogger();
  logger._levelVal = 0;
  logger.level = level;
  logger._chindings = ',"name":"gatehouse"';
  logger._stream = (destination as Destination | undefined) ?? stdoutDestination();
  return logger;
}

const SECRET_PARAM =
  /([?&](?:(?:x[_-])?api[_-]?key|apikey|key|sig|signature|token|access_token|refresh_token|id_token|password|passwd|secret|client_secret|code|sv|se|sr|sp|skoid|sktid)=)[^&#]*/gi;

/** A request target safe to log: credential-like query parameters are replaced by `***`. */
export function scrubTarget(target: string): string {
  return target.includes('?') ? target.replace(SECRET_PARAM, '$1***') : target;
}
