// A request received on our own HTTP/1.1 connection. It offers what node's IncomingMessage offers to
// the engine and to plugins (the body as a Readable; headers, rawHeaders, url, method, version,
// socket), built from a head our strict reader already parsed.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { isNamed } from '../../http1/head-scan.js';
import type { RequestHead } from '../../http1/request-head.js';
import { withErrorPath } from '../../util/error-path.js';

/** Fields of which node keeps only the first occurrence (RFC 9110 singletons); its rule, kept so plugins see the same object. */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** node's `headers` object from a flat [name, value, …] list. */
export function headersObject(raw: string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
      continue;
    }
    if (name === 'set-cookie') (prev as string[]).push(value);
    else if (name === 'cookie') out[name] = `${prev as string}; ${value}`;
    else if (!FIRST_ONLY.has(name)) out[name] = `${prev as string}, ${value}`;
  }
  return out as IncomingHttpHeaders;
}

/** What `headersObject(raw)[name]` holds for `name` (lower-case), a list joined by ", " (cookies by
 *  "; "), without making the object. */
export function headerValue(raw: string[], name: string): string | undefined {
  const n = name.length;
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const f = raw[i]!;
    // isNamed, not sameName: a plugin may ask for any token (`x_a`, `x^b`), not only letters and `-`.
    if (f.length !== n || !isNamed(f, name)) continue;
    const value = raw[i + 1]!;
    if (out === undefined) out = value;
    else if (FIRST_ONLY.has(name)) return out;
    else out = `${out}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

export interface BodySource {
  /** The consumer wants more: resume reading the socket. */
  resumeBody(): void;
}

export class H1Request extends Readable {
  method: string;
  url: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  private headersCache: IncomingHttpHeaders | undefined;
  rawTrailers: string[] = [];
  trailers: Record<string, string> = {};
  /** The whole body arrived. */
  complete = false;
  aborted = false;
  /** Set by the connection when the client sent `Expect: 100-continue` (read by the engine as with node). */
  expectContinue = false;
  readonly upgrade: boolean;
  /** A consumer asked for data (_read was called). */
  private wanted = false;
  // What the plugin pipeline sets on every request it runs (pipeline/types.ts PluginRequest),
  // declared so that those requests keep the shape they were made with.
  reqStartTimestamp = 0;
  routedPath = '';
  targetHostname = '';
  targetPort = 0;
  targetPath = '';
  targetSecure = false;
  targetTimeout: number | undefined = undefined;

  constructor(
    readonly socket: Socket,
    head: RequestHead,
    private readonly source: BodySource,
  ) {
    super();
    this.method = head.method;
    this.url = head.target;
    this.httpVersionMinor = head.versionMinor;
    this.httpVersion = head.versionMinor === 1 ? '1.1' : '1.0';
    this.rawHeaders = head.headers;
    this.upgrade = head.upgrade;
    // Destroyed with 'aborted' when the client goes away, maybe before anyone reads the body (a
    // request queued for an upstream connection): node's IncomingMessage emits that error only to
    // listeners; so do we.
    withErrorPath(this);
  }

  /** Built on first use: most proxied requests read a few fields only. */
  get headers(): IncomingHttpHeaders {
    return (this.headersCache ??= headersObject(this.rawHeaders));
  }

  set headers(value: IncomingHttpHeaders) {
    this.headersCache = value;
  }

  /** `headers` was built (or replaced): edits may be in that object rather than in `rawHeaders`. */
  get headersBuilt(): boolean {
    return this.headersCache !== undefined;
  }

  /** One field (`name` lower-case) as `headers[name]` holds it, a list joined by ", "; read from
   *  the field list while `headers` is not built. */
  field(name: string): string | undefined {
    const h = this.headersCache;
    if (h === undefined) return headerValue(this.rawHeaders, name);
    const v = h[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  /** Replace the field `name` (lower-case) by one line with `value`, or remove it (undefined): in
   *  the field list while `headers` is not built, else in that object. */
  putField(name: string, value: string | undefined): void {
    const h = this.headersCache;
    if (h !== undefined) {
      if (value === undefined) delete h[name];
      else h[name] = value;
      return;
    }
    const raw = this.rawHeaders;
    let i = 0;
    while (i < raw.length && !isNamed(raw[i]!, name)) i += 2;
    if (i < raw.length) {
      let w = i;
      for (i += 2; i < raw.length; i += 2) {
        if (isNamed(raw[i]!, name)) continue;
        raw[w++] = raw[i]!;
        raw[w++] = raw[i + 1]!;
      }
      raw.length = w;
    }
    if (value !== undefined) raw.push(name, value);
  }

  /** node's old name for `socket`, still read by plugins. */
  get connection(): Socket {
    return this.socket;
  }

  override _read(): void {
    this.wanted = true;
    if (this.complete) this.push(null);
    else this.source.resumeBody();
  }

  /** The body ended; `raw` are its trailer fields. */
  endBody(raw: string[] | null): void {
    this.complete = true;
    if (raw && raw.length) {
      this.rawTrailers = raw;
      for (let i = 0; i < raw.length; i += 2) this.trailers[raw[i]!.toLowerCase()] = raw[i + 1]!;
    }
    // The end of a body nobody reads (most GETs) is pushed when somebody does: a push(null) costs a
    // scheduled tick, about 1 µs per request.
    if (this.wanted) this.push(null);
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms, cb);
    return this;
  }
}
