// Forward one request upstream through a pool and stream the answer back. The handler is called by
// the upstream client directly: no Readable per response, no promise per request, backpressure by
// pausing the upstream socket while the client socket drains.
import type { OutgoingHttpHeaders } from 'node:http';
import type { CompiledProxy, Snapshot, UpstreamTarget } from '../config/compile.js';
import { classifyUpstreamError } from '../errors/upstream.js';
import { failRequest } from '../server/errors.js';
import { sameName } from '../http1/head-scan.js';
import { isHopByHopName, nominatedFields } from '../http1/hop-headers.js';
import type { RequestContext } from '../server/request-context.js';
import { H1Response } from '../server/h1/response.js';
import { encodePath } from '../routing/uri.js';
import { UPSTREAM_DEFAULTS } from './pools.js';
import { headerText, type RawHeaders, type UpstreamHandler, type UpstreamRequest } from './dispatcher.js';

/** Build the request target sent upstream. */
export function upstreamPath(ctx: RequestContext, action: CompiledProxy, target: UpstreamTarget): string {
  const query = ctx.hasQuery ? `?${ctx.args}` : '';
  switch (action.target) {
    case 'url':
      if (target.path !== '') return target.path + target.search;
      break;
    case 'replace_prefix': {
      const prefix = ctx.route!.prefix;
      const rest = ctx.uri.startsWith(prefix) ? ctx.uri.slice(prefix.length) : ctx.uri;
      return encodePath(target.path + rest) + query;
    }
    case 'base_path': {
      const prefix = ctx.route!.prefix;
      const rest = ctx.cleanPath.startsWith(prefix)
        ? ctx.cleanPath.slice(prefix.length)
        : rawRemainder(ctx.cleanPath, prefix.length);
      let path =
        (target.path.endsWith('/') && rest.startsWith('/') ? target.path.slice(0, -1) : target.path) + rest;
      if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
      return (path || '/') + query;
    }
  }
  if (!ctx.rewritten) return ctx.requestUri;
  return encodePath(ctx.uri) + query;
}

/** Skip `decodedLength` decoded characters of a percent-encoded path; return the raw rest. */
function rawRemainder(raw: string, decodedLength: number): string {
  let i = 0;
  let n = 0;
  while (i < raw.length && n < decodedLength) {
    i += raw.charCodeAt(i) === 37 ? 3 : 1;
    n++;
  }
  return raw.slice(i);
}

/** Headers for the upstream request: client headers minus hop-by-hop, plus forwarding headers. */
export function upstreamHeaders(
  ctx: RequestContext,
  action: CompiledProxy,
  target: UpstreamTarget,
  snap: Snapshot,
): string[] {
  const raw = ctx.req.rawHeaders;
  const nominated = nominatedFields(ctx.header('connection'));
  const setNames = action.setHeaderNames;
  const policy = snap.headers;
  const out: string[] = [];
  const dropUnderscores = ctx.server?.dropUnderscoreFields !== false;
  let xff: string | undefined;
  // Names are compared in any case without lower-case copies; the two sets need one, rarely.
  const lookUp = nominated.size > 0 || setNames.size > 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' h2 pseudo-header */) continue;
    const n = name.length;
    if (
      (n === 4 && sameName(name, 0, 'host')) ||
      (n === 6 && sameName(name, 0, 'expect')) ||
      isHopByHopName(name)
    )
      continue;
    if (lookUp) {
      const lower = name.toLowerCase();
      if (nominated.has(lower) || setNames.has(lower)) continue;
    }
    if (dropUnderscores && name.includes('_')) {
      ctx.droppedFields++;
      continue;
    }
    if (n === 15 && policy.xForwardedFor !== 'off' && sameName(name, 0, 'x-forwarded-for')) {
      xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      continue;
    }
    if (
      (n === 17 && policy.xForwardedProto === 'replace' && sameName(name, 0, 'x-forwarded-proto')) ||
      (n === 16 && policy.xForwardedHost === 'replace' && sameName(name, 0, 'x-forwarded-host'))
    )
      continue;
    out.push(name, raw[i + 1]!);
  }
  const host =
    action.host === 'upstream'
      ? target.hostHeader
      : action.host === 'preserve'
        ? (ctx.header('host') ?? ctx.header(':authority') ?? target.hostHeader)
        : action.host.evaluate(ctx);
  if (host) out.push('host', host);
  if (policy.xForwardedFor === 'append')
    out.push('x-forwarded-for', xff ? `${xff}, ${ctx.remoteAddr}` : ctx.remoteAddr);
  else if (policy.xForwardedFor === 'replace') out.push('x-forwarded-for', ctx.remoteAddr);
  if (
    policy.xForwardedProto === 'replace' ||
    (policy.xForwardedProto === 'set' && ctx.header('x-forwarded-proto') === undefined)
  )
    out.push('x-forwarded-proto', ctx.scheme);
  if (
    policy.xForwardedHost === 'replace' ||
    (policy.xForwardedHost === 'set' && ctx.header('x-forwarded-host') === undefined)
  )
    out.push('x-forwarded-host', ctx.header('host') ?? '');
  if (policy.via) {
    const via = ctx.header('via');
    out.push('via', via ? `${via}, 1.1 ${policy.via}` : `1.1 ${policy.via}`);
  }
  if (policy.forwarded) {
    const host = ctx.header('host');
    const forwarded = ctx.header('forwarded');
    const element = `for=${forwardedNode(ctx.remoteAddr)};proto=${ctx.scheme}${host ? `;host="${host}"` : ''}`;
    out.push('forwarded', forwarded ? `${forwarded}, ${element}` : element);
  }
  for (const h of action.setHeaders) {
    const v = h.value.evaluate(ctx);
    // nginx: a header whose value evaluates to the empty string is not sent.
    if (v !== '') out.push(h.name, v);
  }
  if (!action.keepAlive) out.push('connection', 'close');
  return out;
}

function forwardedNode(addr: string): string {
  return addr.includes(':') ? `"[${addr}]"` : addr;
}

/** Does the client request carry a body (RFC 9112 §6.3)? */
export function hasRequestBody(ctx: RequestContext): boolean {
  if (ctx.header('transfer-encoding') !== undefined) return true;
  const cl = ctx.header('content-length');
  if (cl !== undefined) return cl !== '0';
  // HTTP/2 requests may stream a body without content-length.
  return (
    ctx.req.httpVersionMajor === 2 &&
    !(ctx.req as { stream?: { readableEnded?: boolean } }).stream?.readableEnded &&
    ctx.method !== 'GET' &&
    ctx.method !== 'HEAD'
  );
}

/** The upstream response's fields that may go to the client (flat name/value list, as received):
 *  hop-by-hop fields and those the upstream nominated in `Connection` are dropped. */
export function forwardableResponseHeaders(rawHeaders: RawHeaders): string[] {
  let out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = headerText(rawHeaders[i]!);
    const value = headerText(rawHeaders[i + 1]!);
    if (isHopByHopName(name)) {
      if (name.length === 10 && sameName(name, 0, 'connection'))
        connection = connection ? `${connection},${value}` : value;
      continue;
    }
    out.push(name, value);
  }
  // Nominated fields are rare: filter afterwards.
  const nominated = nominatedFields(connection);
  if (nominated.size) out = out.filter((_v, i, a) => !nominated.has(a[i - (i % 2)]!.toLowerCase()));
  return out;
}

/** What the engine adds to a proxied response, appended to `out` as name, value pairs: `Via`, then the
 *  route's `add_header`s (else the server's). */
export function addedResponseHeaders(ctx: RequestContext, out: string[]): void {
  const via = ctx.snapshot.headers.via;
  if (via) out.push('via', `1.1 ${via}`);
  const list = ctx.route?.addResponseHeaders.length
    ? ctx.route.addResponseHeaders
    : ctx.server?.addResponseHeaders;
  if (list)
    for (const h of list) {
      const v = h.value.evaluate(ctx);
      if (v !== '') out.push(h.name, v);
    }
}

/** Bytes of response body queued for a client before the upstream read pauses (nginx: proxy_buffers 8 × 4k|8k
 *  plus a temp file; we never spool to disk). */
const RESPONSE_BUFFER = 256 * 1024;

export class ProxyHandler implements UpstreamHandler {
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private finished = false;
  /** Made when the client first falls behind (most responses never need it). */
  private onDrain: (() => void) | undefined;
  /** Set for Upgrade requests (server/upgrade.ts). */
  onUpgrade?: UpstreamHandler['onUpgrade'];
  /** HTTP/1 responses return lent chunks from their write callback; HTTP/2 ones get copies. */
  readonly releasesChunks: boolean;
  /** The client response when it is our HTTP/1.1 one (the proxy's own shortcuts). */
  private readonly h1: H1Response | undefined;
  /** A head given with writeHeadHeld, sent at the end of the upstream read at the latest. */
  private headHeld = false;

  constructor(private readonly ctx: RequestContext) {
    ctx.onClientClose = this;
    this.releasesChunks = !('stream' in ctx.res);
    this.h1 = ctx.res instanceof H1Response ? ctx.res : undefined;
  }

  /** Give up on the upstream exchange (e.g. the request body stalled past the send timeout). */
  abort(err: Error): void {
    if (!this.finished) this.abortUpstream?.(err);
  }

  /** The client went away before we finished: abort the upstream request, freeing its pool connection. */
  clientClosed(): void {
    if (this.finished) return;
    this.finished = true;
    this.ctx.error ||= 'client_closed';
    this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.finished) abort(new Error('client closed the connection'));
  }

  onHeaders(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText: string,
    readEnds?: boolean,
  ): boolean {
    if (statusCode < 200) return true; // 1xx: we answered Expect ourselves; drop interim responses.
    const ctx = this.ctx;
    const res = ctx.res;
    if (this.finished || res.headersSent) return false;
    const out = forwardableResponseHeaders(rawHeaders);
    // The upstream's fields passed a strict parser; what the engine adds is checked by writeHead.
    const checked = out.length;
    addedResponseHeaders(ctx, out);
    ctx.status = statusCode;
    if ('stream' in res) res.writeHead(statusCode, toObject(out));
    else if (readEnds && this.h1) {
      // The body usually follows in the same read: the head leaves with it, or at onReadEnd.
      this.h1.writeHeadHeld(statusCode, statusText || undefined, out, checked);
      this.headHeld = true;
    } else res.writeHead(statusCode, statusText || undefined, out);
    this.resume = resume;
    return true;
  }

  onReadEnd(): void {
    if (!this.headHeld) return;
    this.headHeld = false;
    this.h1!.flushHeaders();
  }

  onData(chunk: Buffer, release?: () => void): boolean {
    if (this.finished) {
      release?.();
      return false;
    }
    const res = this.ctx.res as { write(c: Buffer, cb?: () => void): boolean; writableLength: number };
    if (release) {
      // HTTP/1: the write's callback runs once the socket has taken the bytes (or failed).
      const ok = this.h1 ? this.h1.writeLent(chunk, release) : res.write(chunk, release);
      if (ok || res.writableLength < RESPONSE_BUFFER) return true;
      this.ctx.res.once('drain', (this.onDrain ??= () => this.resume?.()));
      return false;
    }
    // Pause the upstream only once a few chunks are queued for the client, not whenever the socket's
    // 16 KiB mark is passed: a pause/resume per 64 KiB read halves single-stream throughput. The
    // bound keeps memory per slow client at about RESPONSE_BUFFER plus one read.
    if (res.write(chunk) || res.writableLength < RESPONSE_BUFFER) return true;
    this.ctx.res.once('drain', (this.onDrain ??= () => this.resume?.()));
    return false;
  }

  onComplete(trailers: string[] | null): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.ctx.res;
    if (trailers && trailers.length) {
      const t: OutgoingHttpHeaders = {};
      for (let i = 0; i < trailers.length; i += 2) t[String(trailers[i])] = String(trailers[i + 1]);
      try {
        res.addTrailers(t);
      } catch {
        // Trailers need chunked framing; with content-length they are dropped, as nginx does.
      }
    }
    res.end();
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    const e = classifyUpstreamError(err);
    this.ctx.error = e.code;
    if (!this.ctx.res.headersSent) failRequest(this.ctx, e.code, e.detail, false, e.cause ?? err);
    else {
      // Headers are out: cut the connection so a truncated body never looks complete.
      this.ctx.res.destroy(err);
    }
  }
}

function toObject(flat: string[]): OutgoingHttpHeaders {
  const o: OutgoingHttpHeaders = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    const v = flat[i + 1]!;
    const prev = o[k];
    if (prev === undefined) o[k] = v;
    else o[k] = Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  return o;
}

/** Dispatch options for a proxied request. */
export function dispatchOptions(
  ctx: RequestContext,
  action: CompiledProxy,
  target: UpstreamTarget,
  path: string,
  headers: string[],
  body: NodeJS.ReadableStream | null,
): UpstreamRequest {
  const read = target.options.readTimeoutMs ?? UPSTREAM_DEFAULTS.readTimeoutMs;
  return {
    origin: target.origin,
    path,
    method: ctx.method,
    headers,
    body,
    headersTimeout: read,
    bodyTimeout: read,
    // No reuse when the route or the upstream says so (nginx proxy_http_version 1.0 / no keepalive).
    reset: !action.keepAlive || target.options.keepAlive === false,
    // Replaying a request whose body we already streamed is impossible; never retry non-idempotent ones.
    idempotent: body === null && (ctx.method === 'GET' || ctx.method === 'HEAD'),
  };
}
