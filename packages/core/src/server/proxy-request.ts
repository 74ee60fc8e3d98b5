// The request the engine sends upstream for a proxied client request: its target, its header fields
// (hop-by-hop fields, underscored names and the client's forwarding fields dropped; the engine's own
// added) and its dispatch options.
import type { CompiledProxy, Snapshot, UpstreamTarget } from '../config/compile.js';
import { sameName } from '../http1/head-scan.js';
import { isHopByHopName, nominatedFields } from '../http1/hop-headers.js';
import type { RequestContext } from './request-context.js';
import { encodePath } from '../routing/uri.js';
import { UPSTREAM_DEFAULTS } from '../upstream/pools.js';
import type { UpstreamRequest } from '../upstream/dispatcher.js';

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
