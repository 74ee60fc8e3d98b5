// Logging: JSON lines. Secrets never reach a log line: known secret-bearing fields are redacted by
// path, and query strings in URIs are scrubbed of credential-like parameters before logging.
//
// The lines are pino's, byte for byte: this file used to call pino 10 with base {name: 'gatehouse'},
// the REDACT paths below censored as '[redacted]', pino's default `err` serializer and epoch
// milliseconds. It now writes them itself, by the same steps (pino's asJson and child bindings,
// @pinojs/redact's clone-and-censor, pino-std-serializers' err), because pino and its dependencies
// cost about 2 MiB of the proxy's start-up memory (bench/ANALYSIS.md, "Memory"). The default
// destination is pino's: an asynchronous sonic-boom on fd 1, flushed at exit. What this writer does
// not do itself — printf-style arguments, request/response objects, values JSON.stringify refuses
// (cycles, BigInt), anything that throws — is handed to a real pino built with the same options, loaded
// then. packages/core/test/logger-parity.test.ts compares the two line for line.
import { createRequire } from 'node:module';
import type { SonicBoom } from 'sonic-boom';
import type { LogConfig } from '../config/types.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

type LevelLabel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

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

const REDACT = [
  'key',
  'passphrase',
  'password',
  'secret',
  'token',
  'authorization',
  '*.key',
  '*.passphrase',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];
const CENSOR = '[redacted]';
/** The options pino was (and the fallback is) given. */
const PINO_OPTIONS = { base: { name: 'gatehouse' }, redact: { paths: REDACT, censor: CENSOR } };

// What pino's redaction makes of REDACT: top-level keys always censored; the fields of any other
// top-level value censored one level down ('*.x'), with three more for `headers`.
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

/** Thrown when a line needs pino itself (JSON.stringify refused a value: pino's safe-stable-stringify
 *  writes it). */
class NeedsPino extends Error {}

/** @pinojs/redact on one value (its paths are all one level deep), serialized: a shallow clone with
 *  the named own fields censored. */
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
      void c[f]; // read, as redact does (a getter may throw: pino then throws too)
      if (hasOwn(c, f)) c[f] = CENSOR;
    }
  }
  try {
    return JSON.stringify(clone);
  } catch {
    throw new NeedsPino();
  }
}

/** The serialized value of top-level field `key` (or undefined: left out), as pino's stringifiers. */
function fieldValue(key: string, value: unknown): string | undefined {
  if (TOP_LEVEL.has(key)) return CENSORED;
  return redacted(value, key === 'headers' ? HEADER_FIELD : ANY_FIELD);
}

// pino-std-serializers' err serializer (`err` fields): type, message and stack with their causes.
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

/** pino's asChindings: `,"key":value` for each binding. */
function bindingsText(bindings: Record<string, unknown>): string {
  let data = '';
  for (const key in bindings) {
    let value = bindings[key];
    const valid =
      (key.length < 5 ||
        (key !== 'level' && key !== 'serializers' && key !== 'formatters' && key !== 'customLevels')) &&
      // As pino: the bindings' own hasOwnProperty (a null-prototype object throws, in pino too).
      (bindings as { hasOwnProperty(k: string): boolean }).hasOwnProperty(key) &&
      value !== undefined;
    if (!valid) continue;
    if (key === 'err') value = serializeError(value);
    const text = fieldValue(key, value);
    if (text === undefined) continue;
    data += ',' + asString(key) + ':' + text;
  }
  return data;
}

/** pino's _asJson for our options: the line for `obj` and `msg` at level `num`. */
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

interface PinoLike {
  level: string;
  child(bindings: Record<string, unknown>): PinoLike;
  [level: string]: unknown;
}

/** Each logger's state lives in properties, and a child is made with Object.create as pino makes it:
 *  a child follows its parent's level until it is given its own. */
class JsonLogger implements Logger {
  declare _levelVal: number;
  /** `,"name":"gatehouse"` and the bindings of each child down to this one. */
  declare _chindings: string;
  declare _stream: Destination;
  declare _parent: JsonLogger | undefined;
  declare _bindings: Record<string, unknown> | undefined;
  /** This logger in pino, once a line needed it. */
  declare _twin: PinoLike | undefined;
  /** Set when the bindings need pino (inherited by children): every line goes to the twin. */
  declare _pinoOnly: boolean;

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
    // By name only, as pino.
    const value = typeof level === 'string' ? levelValue(level) : undefined;
    return value !== undefined && value >= this._levelVal;
  }

  child(bindings: Record<string, unknown>): Logger {
    if (!bindings) throw Error('missing bindings for child Pino');
    const child = Object.create(this) as JsonLogger;
    child._parent = this;
    child._bindings = bindings;
    child._twin = undefined;
    if (!this._pinoOnly) {
      try {
        child._chindings = this._chindings + bindingsText(bindings);
      } catch {
        child._pinoOnly = true;
      }
    }
    if (child._pinoOnly) child.twin();
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
        // As pino: a stream not ready to flush is left to flush itself.
      }
    }
  }

  /** pino's LOG and write for one call: this writer's line, or pino's for what it leaves to pino. */
  private write(num: number, o: unknown, n: unknown[]): void {
    if (!this._pinoOnly && !needsPino(o, n)) {
      let line: string | undefined;
      try {
        line = this.line(num, o, n);
      } catch {
        // NeedsPino, or a throwing getter or serializer: pino does (or throws) the same below.
      }
      if (line !== undefined) {
        this._stream.write(line);
        return;
      }
    }
    (this.twin()[LABELS[num]! as LevelLabel] as (...args: unknown[]) => void)(o, ...n);
  }

  private line(num: number, o: unknown, n: unknown[]): string {
    let msg: unknown;
    let fields: Record<string, unknown>;
    if (typeof o === 'object') msg = o === null && n.length === 0 ? null : n[0];
    else msg = o === undefined ? n[0] : o;
    if (typeof o !== 'object' || o === null) fields = {};
    else if (o instanceof Error) {
      fields = { err: o };
      if (msg === undefined) msg = o.message;
    } else {
      fields = o as Record<string, unknown>;
      if (msg === undefined && fields.msg === undefined && fields.err)
        msg = (fields.err as { message?: unknown }).message;
    }
    return lineFor(this._chindings, fields, msg, num);
  }

  /** The same logger in pino (loaded on first use), for the lines this writer leaves to pino. */
  private twin(): PinoLike {
    if (this._twin !== undefined) return this._twin;
    let twin: PinoLike;
    if (this._parent) twin = this._parent.twin().child(this._bindings!);
    else {
      const { pino } = require('pino') as { pino: (o: object, d: Destination) => PinoLike };
      twin = pino({ ...PINO_OPTIONS, level: 'trace' }, this._stream);
    }
    this._twin = twin;
    return twin;
  }
}

/** True for the calls this writer leaves to pino: printf-style arguments (a message followed by more
 *  arguments), and request or response objects (pino maps them with its req/res serializers). */
function needsPino(o: unknown, n: unknown[]): boolean {
  if (typeof o !== 'object') return n.length > (o === undefined ? 1 : 0);
  if (n.length > 1) return true;
  if (o === null) return false;
  const r = o as { method?: unknown; headers?: unknown; socket?: unknown; setHeader?: unknown };
  return !!(r.method && r.headers && r.socket) || typeof r.setHeader === 'function';
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
  logger._parent = undefined;
  logger._bindings = undefined;
  logger._twin = undefined;
  logger._pinoOnly = false;
  return logger;
}

const SECRET_PARAM =
  /([?&](?:(?:x[_-])?api[_-]?key|apikey|key|sig|signature|token|access_token|refresh_token|id_token|password|passwd|secret|client_secret|code|sv|se|sr|sp|skoid|sktid)=)[^&#]*/gi;

/** A request target safe to log: credential-like query parameters are replaced by `***`. */
export function scrubTarget(target: string): string {
  return target.includes('?') ? target.replace(SECRET_PARAM, '$1***') : target;
}
