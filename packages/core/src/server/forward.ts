// Stream a request to its upstream and the answer back: the one dispatch of proxied requests, with
// or without plugins (their request hooks' decisions arrive as an ExchangeInterceptor).
import type { CompiledProxy, UpstreamTarget } from '../config/compile.js';
import { ProxyError } from '../errors/codes.js';
import { bufferSettings, buffersBody, sendBuffered, withLength } from '../upstream/body-buffer.js';
import { UPSTREAM_DEFAULTS } from '../upstream/pools.js';
import { dispatchOptions, hasRequestBody, upstreamHeaders, upstreamPath } from './proxy-request.js';
import { BodyLimit } from './body-limit.js';
import { failRequest } from './errors.js';
import type { HandlerDeps } from './handler-deps.js';
import type { ExchangeInterceptor } from './interceptor.js';
import { ResponseRelay } from './relay.js';
import type { ClientRequest, RequestContext } from './request-context.js';

/** `routeTarget` is the route's upstream; the interceptor's, when given, replaces it. */
export function forward(
  ctx: RequestContext,
  deps: HandlerDeps,
  action: CompiledProxy,
  routeTarget: UpstreamTarget,
  limit: number,
  interceptor?: ExchangeInterceptor,
): void {
  const target = interceptor ? interceptor.target : routeTarget;
  const path = interceptor ? interceptor.path : upstreamPath(ctx, action, target);
  let headers = upstreamHeaders(ctx, action, target, ctx.snapshot);
  let body: NodeJS.ReadableStream | null = null;
  if (hasRequestBody(ctx)) {
    body = ctx.req as NodeJS.ReadableStream;
    // Chunked bodies have no length up front: count while streaming and stop at the limit.
    if (limit > 0 && ctx.header('content-length') === undefined)
      body = ctx.req.pipe(
        new BodyLimit(limit, () => {
          if (!ctx.res.headersSent) failRequest(ctx, 'payload_too_large', undefined, true);
        }),
      );
    if (interceptor?.transformsBody) body = interceptor.requestBody(body);
  }
  const buffer = interceptor?.bodyBuffer ?? null;
  // A body that may change size: sent chunked, or with the new body's length.
  if (interceptor && (interceptor.transformsBody || buffer)) headers = withLength(headers, buffer?.length);
  ctx.upstream = target.origin;
  // We answered the client's Expect ourselves (the upstream request carries none): ask for the body now.
  if ((ctx.req as { expectContinue?: boolean }).expectContinue && !ctx.res.headersSent)
    ctx.res.writeContinue();
  const relay = new ResponseRelay(ctx);
  const handler = interceptor ? interceptor.wrap(relay) : relay;
  const options = dispatchOptions(ctx, action, target, path, headers, body);
  if (buffer) options.body = buffer;
  const pool = deps.pools.get(target);
  const settings = body && action.requestBuffering ? bufferSettings(ctx.server!.limits) : undefined;
  if (settings && buffersBody(options, settings))
    return sendBuffered(
      ctx.res,
      options,
      settings,
      (o) => pool.dispatch(o, handler),
      // An answer already sent (413 from the body limit, 408 from the connection) is left alone.
      (err) => ctx.res.headersSent || handler.onError?.(err),
    );
  if (body) watchSendTimeout(ctx.req, target.options.sendTimeoutMs ?? UPSTREAM_DEFAULTS.sendTimeoutMs, relay);
  pool.dispatch(options, handler);
}

/**
 * nginx `proxy_send_timeout`: the time allowed between two pieces of the request body on their way
 * upstream. A body that stalls longer fails the exchange with 504 (the client is too slow for the upstream).
 */
function watchSendTimeout(req: ClientRequest, ms: number, relay: ResponseRelay): void {
  if (ms <= 0 || req.readableEnded) return;
  // Watch the connection's byte counter instead of listening for 'data', which would change the
  // body stream's flow before the upstream client reads it.
  const socket = req.socket as { bytesRead?: number } | null;
  let last = socket?.bytesRead ?? 0;
  const timer = setTimeout(function check() {
    const now = socket?.bytesRead ?? 0;
    if (now !== last) {
      last = now;
      timer.refresh();
      return;
    }
    relay.abort(new ProxyError('upstream_timeout', 'request body stalled (send timeout)'));
  }, ms);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  req.once('end', stop);
  req.once('close', stop);
}
