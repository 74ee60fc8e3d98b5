// One request through a route's plugin chain. The request hooks run first (they may edit headers and
// the target, or answer); then the engine's own path continues (server/forward.ts) with this object
// as its interceptor: it hands over the target and path decided here, feeds the request body through
// the data hooks and wraps the engine's relay in the response hooks (response-hooks.ts); without such
// hooks the engine's relay is used as is. A plugin error, throw or timeout becomes edgemicro's error
// answer; nothing a plugin does may crash the process or leave the client waiting forever.
import type { CompiledProxy, CompiledRoute, UpstreamTarget } from '../config/compile.js';
import { resolveUpstream } from '../config/compile.js';
import { H1Request } from '../server/h1/request.js';
import type { ExchangeInterceptor } from '../server/interceptor.js';
import type { ResponseRelay } from '../server/relay.js';
import type { RequestContext } from '../server/request-context.js';
import { resolveTarget } from '../server/targets.js';
import type { UpstreamHandler } from '../upstream/dispatcher.js';
import { hasRequestBody, upstreamPath } from '../server/proxy-request.js';
import type { Chain } from './chain.js';
import { answerPluginError, pluginErrorStatus } from './error-response.js';
import { HookRunner, type ExchangeEnv } from './hook-runner.js';
import { defineReqUrl, headersEdited, proxyInfo } from './plugin-request.js';
import { PluginRequestBody } from './request-body.js';
import { ResponseHooks } from './response-hooks.js';
import type { PluginRequest, PluginResponse } from './types.js';

type Proceed = (ctx: RequestContext, interceptor?: ExchangeInterceptor) => void;

export class PluginExchange extends HookRunner implements ExchangeInterceptor {
  /** The upstream's status, before response hooks changed it. */
  baseStatus = 200;
  /** The upstream exchange started (its response hooks may run). */
  dispatched = false;
  /** The upstream's answer was relayed completely. */
  responseDone = false;
  /** Aborts the upstream exchange once dispatched. */
  abortUpstream: ((err?: Error) => void) | undefined = undefined;
  private upstreamClosedFired = false;
  private action: CompiledProxy | undefined = undefined;
  private initialPath = '';
  // ExchangeInterceptor
  target!: UpstreamTarget;
  path = '/';
  transformsBody: boolean;
  bodyBuffer: Buffer | null = null;

  constructor(
    env: ExchangeEnv,
    readonly chain: Chain,
    readonly ctx: RequestContext,
    private readonly proceed: Proceed,
  ) {
    super(
      env,
      ctx.req as PluginRequest,
      ctx.res as PluginResponse,
      env.hookTimeoutMs ?? ctx.server?.limits.requestTimeoutMs ?? 0,
    );
    this.transformsBody = chain.requestBody;
  }

  start(): void {
    const { ctx, req, res } = this;
    ctx.plugins = this;
    this.env.stats.incrementRequestCount();
    // The fields edgemicro's core puts on req/res before the first hook.
    req.reqStartTimestamp = Date.now();
    req.routedPath = ctx.uri;
    defineReqUrl(req);
    const route: CompiledRoute = ctx.route!;
    let target: UpstreamTarget | undefined;
    if (route.action.type === 'proxy') {
      this.action = route.action;
      target = resolveTarget(ctx, route.action);
      if (!target) return this.fail(new Error('invalid upstream URL'), 502);
      this.target = target;
      this.initialPath = upstreamPath(ctx, route.action, target);
      req.targetHostname = target.hostname;
      req.targetPort = target.port;
      req.targetPath = this.initialPath;
      req.targetSecure = target.protocol === 'https:';
      req.targetTimeout = target.options.readTimeoutMs;
    }
    res.proxy = proxyInfo(route, target);
    if (this.chain.onrequest.length) this.run(this.chain.onrequest, null, this.afterRequestHooks);
    else this.afterRequestHooks(undefined, false);
  }

  // ---- failure and client close ----

  fail(err: unknown, status?: number): void {
    if (this.settled) return;
    this.settled = true;
    const { ctx, res } = this;
    ctx.error = 'plugin_error';
    this.abortUpstream?.(new Error('plugin error'));
    this.env.stats.incrementRequestErrorCount();
    if (res.writableEnded) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    answerPluginError(ctx, err, status ?? pluginErrorStatus(res.statusCode, this.baseStatus));
  }

  /** The client response closed (completed or not): told by the request context, after the engine. */
  responseClosed(): void {
    this.stopTimer();
    const res = this.res;
    if (res.writableFinished) {
      this.env.stats.incrementResponseCount();
      this.env.stats.incrementStatusCount(res.statusCode);
      return;
    }
    // The client went away before its answer was complete.
    const upstreamOpen = this.dispatched && !this.responseDone;
    this.settled = true;
    this.ctx.error ||= 'client_closed';
    if (upstreamOpen) this.abortUpstream?.(new Error('client closed the connection'));
    const ignore = (): void => undefined;
    if (this.chain.onclose_request.length) this.run(this.chain.onclose_request, null, ignore, true);
    if (upstreamOpen) this.fireUpstreamClosed();
  }

  fireUpstreamClosed(): void {
    if (this.upstreamClosedFired || !this.chain.onclose_response.length) return;
    this.upstreamClosedFired = true;
    this.run(this.chain.onclose_response, null, () => undefined, true);
  }

  // ---- request phase ----

  private readonly afterRequestHooks = (err: unknown, stop: boolean): void => {
    if (this.settled) return;
    if (err) return this.fail(err);
    const { ctx, req, res, chain } = this;
    if (stop || res.headersSent || res.writableEnded) {
      // next(true) without an answer yet: the plugin answers later, within the hook timeout.
      if (!res.writableEnded) this.beginWait(chain.onrequest[0]!);
      return;
    }
    // Fields edited through setRequestHeader are in the list already; `req.headers`, once built, may
    // have been edited in place.
    if (chain.onrequest.length && headersEdited(req)) useHookHeaders(req);
    const action = this.action;
    if (!action) return this.proceed(ctx);
    const target = this.target;
    const changed =
      req.targetHostname !== target.hostname ||
      Number(req.targetPort) !== target.port ||
      req.targetSecure !== (target.protocol === 'https:') ||
      req.targetPath !== this.initialPath;
    if (changed) {
      const host = req.targetHostname.includes(':') ? `[${req.targetHostname}]` : req.targetHostname;
      try {
        this.target = resolveUpstream(
          `${req.targetSecure ? 'https' : 'http'}://${host}:${Number(req.targetPort)}`,
          action.options,
        );
      } catch {
        return this.fail(new Error('invalid target set by a plugin'), 502);
      }
    }
    this.path = req.targetPath || '/';
    if (!chain.onend_request.length || hasRequestBody(ctx)) return this.proceed(ctx, this);
    // No body: the end hooks still fire (edgemicro) and may produce one.
    this.transformsBody = false;
    this.run(chain.onend_request, null, (herr, hstop, out) => {
      if (herr) return this.fail(herr);
      if (this.settled || hstop || this.res.headersSent) return;
      const buf =
        out === null || out instanceof Error ? null : typeof out === 'string' ? Buffer.from(out) : out;
      this.bodyBuffer = buf && buf.length ? buf : null;
      this.proceed(ctx, this);
    });
  };

  // ---- ExchangeInterceptor ----

  requestBody(body: NodeJS.ReadableStream): NodeJS.ReadableStream {
    return new PluginRequestBody(body, this, this.chain.ondata_request, this.chain.onend_request);
  }

  wrap(relay: ResponseRelay): UpstreamHandler {
    this.dispatched = true;
    return this.chain.exchange ? new ResponseHooks(this, relay) : relay;
  }
}

/** Plugins edit `req.headers`; the engine builds the upstream request from the field list. */
function useHookHeaders(req: PluginRequest): void {
  const raw: string[] = [];
  const h = req.headers;
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58) continue;
    if (Array.isArray(v)) for (const x of v) raw.push(k, x);
    else raw.push(k, String(v));
  }
  // Our requests keep the list in a plain field; node's HTTP/2 request has a getter only.
  if (req instanceof H1Request) (req as { rawHeaders: string[] }).rawHeaders = raw;
  else
    Object.defineProperty(req, 'rawHeaders', {
      value: raw,
      writable: true,
      configurable: true,
      enumerable: true,
    });
}
