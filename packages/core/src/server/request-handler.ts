// The request path: snapshot at arrival → host and target checks → server rewrite phase → route
// selection (+ location rewrite, `last` loops) → auth subrequest → plugins → return or proxy.
import type { TLSSocket } from 'node:tls';
import type {
  CompiledProxy,
  CompiledReturn,
  CompiledServer,
  Snapshot,
  UpstreamTarget,
} from '../config/compile.js';
import { sameName } from '../http1/head-scan.js';
import { hasTrailingDotSegment, parseTarget } from '../routing/uri.js';
import type { Outcome } from '../routing/statements.js';
import { clientCertificateError } from '../tls/client-certificate.js';
import { upstreamHeaders, upstreamPath } from './proxy-request.js';
import { ResponseCache } from '../upstream/response-cache.js';
import type { HandlerDeps } from './handler-deps.js';
export type { HandlerDeps, PipelineRunner } from './handler-deps.js';
import { cacheFor, resolveTarget } from './targets.js';
import { ProxyError, type ErrorCode } from '../errors/codes.js';
import type { ErrorRenderer } from '../errors/renderer.js';
import { failRequest } from './errors.js';
import { classifyUpstreamError } from '../errors/upstream.js';
import { RequestContext, type ClientRequest, type ClientResponse } from './request-context.js';
import { forward } from './forward.js';
import type { ExchangeInterceptor } from './interceptor.js';
import { runSubrequest } from './subrequest.js';
import { allowedUpgrade, forwardUpgrade, markUpgrade, upgradeOf } from './upgrade.js';
import type { Duplex } from 'node:stream';
import { H1Response } from './h1/response.js';

const MAX_REWRITE_CYCLES = 10;

/** Pick the virtual server for a request: exact server name, else the listener's default (first). */
function selectServer(servers: CompiledServer[], host: string): CompiledServer | undefined {
  if (servers.length === 1) return servers[0];
  for (const s of servers) if (s.serverNames.includes(host)) return s;
  for (const s of servers)
    for (const n of s.serverNames) if (n.startsWith('*.') && host.endsWith(n.slice(1))) return s;
  return defaultServer(servers);
}

/** Route an already-constructed context (used for upgrades, whose response object is synthetic). */
function handleContext(ctx: RequestContext, deps: HandlerDeps, servers: CompiledServer[]): void {
  try {
    handle(ctx, deps, servers);
  } catch (err) {
    if (err instanceof ProxyError) fail(ctx, err.code, err.detail, false, err.cause);
    else fail(ctx, 'internal_error', undefined, false, err, fallbackRenderer(ctx, servers));
  }
}

export function createRequestHandler(
  deps: HandlerDeps,
  serversFor: (snap: Snapshot) => CompiledServer[],
  tls: boolean,
): (req: ClientRequest, res: ClientResponse) => void {
  // 'close' follows 'finish' on a completed response and also signals an abort.
  const closed = (ctx: RequestContext): void => {
    // A no-op once the exchange completed; otherwise the upstream request is aborted.
    ctx.onClientClose?.clientClosed();
    finish(ctx, deps);
  };
  return function onRequest(req, res) {
    const snap = deps.snapshot();
    const ctx = new RequestContext(snap, req, res, tls);
    ctx.onResponseClosed = closed;
    // Our HTTP/1.1 response calls the context directly; others get one listener per request.
    if (res instanceof H1Response) res.closeHandler = ctx;
    else res.once('close', () => ctx.responseClosed());
    handleContext(ctx, deps, serversFor(snap));
  };
}

/** Upgrade requests (HTTP/1.1): routed and accounted for like any request (plugins, access log,
 *  metrics); a relayed upgrade finishes when its tunnel closes. */
export function createUpgradeHandler(
  deps: HandlerDeps,
  serversFor: (snap: Snapshot) => CompiledServer[],
  tls: boolean,
): (req: ClientRequest, res: H1Response, socket: Duplex, head: Buffer) => void {
  const closed = (ctx: RequestContext): void => {
    ctx.onClientClose?.clientClosed();
    finish(ctx, deps);
  };
  return function onUpgrade(req, res, socket, head) {
    const snap = deps.snapshot();
    res.shouldKeepAlive = false;
    const ctx = new RequestContext(snap, req, res as unknown as ClientResponse, tls);
    ctx.onResponseClosed = closed;
    res.closeHandler = ctx;
    markUpgrade(ctx, { socket, head });
    handleContext(ctx, deps, serversFor(snap));
  };
}

function finish(ctx: RequestContext, deps: HandlerDeps): void {
  if (ctx.status < 0) return;
  if (!ctx.status) ctx.status = ctx.res.headersSent ? ctx.res.statusCode : 499;
  deps.hooks.finish(ctx);
  ctx.status = -1;
}

function fail(
  ctx: RequestContext,
  code: ErrorCode,
  detail?: string,
  close = false,
  cause?: unknown,
  renderer?: ErrorRenderer,
): void {
  failRequest(ctx, code, detail, close, cause, renderer);
}

/** Before a server is chosen, errors are rendered as the listener's default server renders them. */
function fallbackRenderer(ctx: RequestContext, servers: CompiledServer[]): ErrorRenderer | undefined {
  if (ctx.route || ctx.server) return undefined;
  return defaultServer(servers)?.errors;
}

export function defaultServer(servers: CompiledServer[]): CompiledServer | undefined {
  return servers.find((s) => s.listen.some((l) => l.defaultServer)) ?? servers[0];
}

function handle(ctx: RequestContext, deps: HandlerDeps, servers: CompiledServer[]): void {
  const req = ctx.req;
  const early = (code: ErrorCode, detail?: string): void =>
    fail(ctx, code, detail, true, undefined, fallbackRenderer(ctx, servers));
  // Host: exactly one (node keeps the first of duplicates silently); HTTP/2 uses :authority.
  let host = '';
  if (req.httpVersionMajor === 1) {
    let hosts = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.length === 4 && sameName(raw[i]!, 0, 'host') && hosts++ === 0) host = raw[i + 1]!;
    if (hosts > 1) return early('duplicate_host');
    // HTTP/1.1 requires Host (RFC 9112 §3.2); HTTP/1.0 may omit it.
    if (hosts === 0 && req.httpVersionMinor >= 1) return early('invalid_host', 'missing Host header');
  } else host = ctx.headers.host ?? (ctx.headers[':authority'] as string | undefined) ?? '';
  let target = ctx.requestUri;
  if (target.charCodeAt(0) !== 47) {
    // Absolute form (RFC 9112 §3.2.2): the target's authority replaces Host; forward in origin form.
    if (target === '*' && ctx.method === 'OPTIONS') target = '/';
    else {
      const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(target);
      if (!m) return early('invalid_target');
      host = m[1]!;
      target = m[2] || '/';
      if (target.charCodeAt(0) !== 47) target = `/${target}`;
      ctx.requestUri = target;
    }
  }
  if (!/^[A-Za-z0-9.\-_:[\]]*$/.test(host)) return early('invalid_host');
  const parsed = parseTarget(target);
  if (typeof parsed === 'string') return early(parsed);
  ctx.uri = parsed.uri;
  ctx.args = parsed.args;
  ctx.hasQuery = parsed.hasQuery;
  ctx.cleanPath = parsed.cleanPath;
  // $host: lower-cased, without port (nginx).
  const colon = host.startsWith('[') ? host.indexOf(']:') + 1 : host.lastIndexOf(':');
  ctx.host = (colon > 0 ? host.slice(0, colon) : host).toLowerCase();

  const server = selectServer(servers, ctx.host);
  if (!server) return fail(ctx, 'not_found');
  ctx.server = server;
  ctx.serverName = server.serverNames[0] ?? ctx.host;
  if (server.refuseTrailingDots && hasTrailingDotSegment(ctx.uri))
    return fail(ctx, 'ambiguous_path', undefined, true);

  if (ctx.tls) {
    const cc = server.config.tls?.clientCertificate;
    if (cc && cc.mode !== 'off') {
      const certError = clientCertificateError(req.socket as TLSSocket, cc.mode, cc.verifyDepth);
      if (certError) {
        // nginx closes the connection after this 400: the certificate is the connection's, not the request's.
        if (req.httpVersionMajor === 1) ctx.res.setHeader('connection', 'close');
        return fail(ctx, certError as ErrorCode);
      }
    }
  }
  if (deps.draining() && req.httpVersionMajor === 1) ctx.res.setHeader('connection', 'close');
  route(ctx, deps, server);
}

/** Server rewrite phase, then location selection with `rewrite … last` cycles. */
function route(ctx: RequestContext, deps: HandlerDeps, server: CompiledServer): void {
  if (server.rewrite) {
    const outcome = server.rewrite(ctx);
    if (outcome?.kind === 'return') return respondReturn(ctx, outcome);
  }
  for (let cycle = 0; cycle < MAX_REWRITE_CYCLES; cycle++) {
    const sel = server.router.select(ctx.uri);
    if (!sel || (sel.route.internal && !ctx.internal)) return fail(ctx, 'not_found');
    ctx.route = sel.route;
    if (sel.captures) ctx.captures = sel.captures;
    const r = sel.route;
    if (r.rewrite) {
      const outcome: Outcome = r.rewrite(ctx);
      if (outcome?.kind === 'return') return respondReturn(ctx, outcome);
      if (outcome?.kind === 'last') {
        ctx.internal = true;
        continue;
      }
    }
    return dispatchRoute(ctx, deps);
  }
  fail(ctx, 'too_many_rewrites');
}

function respondReturn(ctx: RequestContext, outcome: { status: number; body: string | undefined }): void {
  const { status, body } = outcome;
  const res = ctx.res;
  ctx.status = status;
  if (status === 301 || status === 302 || status === 303 || status === 307 || status === 308) {
    res.writeHead(status, { location: body ?? '', 'content-length': 0 });
    res.end();
    return;
  }
  const text = body ?? '';
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  if (ctx.method === 'HEAD') res.end();
  else res.end(text);
}

function dispatchRoute(ctx: RequestContext, deps: HandlerDeps): void {
  const r = ctx.route!;
  // Body limit: refuse at once from Content-Length, without reading the body.
  const limit = r.maxBodySize >= 0 ? r.maxBodySize : ctx.server!.limits.maxBodySize;
  if (limit > 0) {
    const cl = ctx.header('content-length');
    if (cl !== undefined && Number(cl) > limit) return fail(ctx, 'payload_too_large', undefined, true);
  }
  if (r.authRequest) {
    runSubrequest(ctx, deps, r.authRequest.uri, (status, headers) => {
      if (status >= 200 && status < 300) {
        ctx.upstreamHeaders = headers;
        for (const s of r.authRequest!.set) (ctx.vars ??= new Map()).set(s.name, s.value.evaluate(ctx));
        ctx.upstreamHeaders = null;
        proceed(ctx, deps, limit);
      } else if (status === 401 || status === 403) {
        fail(ctx, status === 401 ? 'unauthorized' : 'forbidden');
      } else fail(ctx, 'auth_request_failed', `subrequest answered ${status}`);
    });
    return;
  }
  proceed(ctx, deps, limit);
}

function proceed(ctx: RequestContext, deps: HandlerDeps, limit: number): void {
  if (ctx.route!.plugins.length === 0) return act(ctx, deps, limit);
  // Fail closed: validation refuses such a config, but a route must never run without its plugins.
  const pipeline = ctx.snapshot.pipeline;
  if (!pipeline) return fail(ctx, 'plugin_error', undefined, false, new Error('no plugin pipeline'));
  pipeline.run(ctx, (c, interceptor) => act(c, deps, limit, interceptor));
}

/** The route's action; `interceptor` carries what its plugins' request hooks decided. */
function act(ctx: RequestContext, deps: HandlerDeps, limit: number, interceptor?: ExchangeInterceptor): void {
  const action = ctx.route!.action;
  if (action.type === 'return') return respondAction(ctx, action);
  const target = resolveTarget(ctx, action);
  if (!target) return fail(ctx, 'upstream_dns', 'invalid upstream URL');
  const upgrade = upgradeOf(ctx);
  if (upgrade) {
    const protocol = allowedUpgrade(ctx, action);
    if (protocol !== undefined) return forwardUpgrade(ctx, deps, action, target, upgrade, protocol);
    // Not relayed here (h2c smuggling, or upgrades off): a plain request; Upgrade and HTTP2-Settings
    // are hop-by-hop and never leave. The connection closes after the answer.
  }
  if (action.cache) return cached(ctx, deps, action, target);
  forward(ctx, deps, action, target, limit, interceptor);
}

function respondAction(ctx: RequestContext, a: CompiledReturn): void {
  const body = a.body?.evaluate(ctx);
  if (a.status >= 300 && a.status < 400 && body !== undefined)
    return respondReturn(ctx, { status: a.status, body });
  for (const h of a.headers) ctx.res.setHeader(h.name, h.value.evaluate(ctx));
  respondReturn(ctx, { status: a.status, body });
}

/** nginx `proxy_cache` for small internal responses (the token subrequest): one fetch per key however many wait. */
function cached(ctx: RequestContext, deps: HandlerDeps, action: CompiledProxy, target: UpstreamTarget): void {
  const cache = cacheFor(deps, action);
  const key = action.cache!.key.evaluate(ctx);
  const path = upstreamPath(ctx, action, target);
  const headers = upstreamHeaders(ctx, action, target, ctx.snapshot);
  ctx.upstream = target.origin;
  cache
    .get(key, action.cache!.validMs, () =>
      ResponseCache.fetch(
        deps.pools.get(target),
        target.origin,
        ctx.method,
        path,
        headers,
        target.options.readTimeoutMs,
      ),
    )
    .then(
      (entry) => {
        ctx.status = entry.status;
        ctx.res.writeHead(entry.status, entry.headers);
        if (ctx.method === 'HEAD') ctx.res.end();
        else ctx.res.end(entry.body);
      },
      (err: unknown) => {
        const e = classifyUpstreamError(err);
        fail(ctx, e.code, e.detail, false, e.cause ?? err);
      },
    );
}
