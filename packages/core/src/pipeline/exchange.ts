// One request through a plugin chain. Request hooks run first (they may edit headers and the
// target, or answer); then the cheapest path that honours the chain is taken:
//  - no body hooks, no response hooks, target unchanged → the engine's own forward (ProxyHandler);
//  - otherwise this object dispatches upstream itself and is the undici handler: it runs onresponse
//    before the head is written (so status/header changes are honoured), runs data hooks per chunk
//    with backpressure, and the end hooks before `end()`.
// A plugin error, throw or timeout becomes edgemicro's error answer; nothing a plugin does may
// crash the process or leave the client waiting forever.
import type { IncomingHttpHeaders, OutgoingHttpHeader } from 'node:http';
import { parse as parseUrl, type UrlWithParsedQuery } from 'node:url';
import type { RawHeaders, UpstreamHandler } from '../upstream/dispatcher.js';
import type { CompiledProxy, CompiledRoute, UpstreamTarget } from '../config/compile.js';
import { resolveUpstream } from '../config/compile.js';
import type { Logger } from '../observability/logger.js';
import { classifyUpstreamError } from '../errors/upstream.js';
import { failRequest } from '../server/errors.js';
import type { RequestContext } from '../server/request-context.js';
import { resolveTarget } from '../server/targets.js';
import { bufferSettings, sendBuffered } from '../upstream/body-buffer.js';
import type { PoolRegistry } from '../upstream/pools.js';
import {
  addedResponseHeaders,
  dispatchOptions,
  forwardableResponseHeaders,
  hasRequestBody,
  upstreamHeaders,
  upstreamPath,
} from '../upstream/forward.js';
import type { Chain, Stage } from './chain.js';
import { answerPluginError, errorText, pluginErrorStatus } from './error-response.js';
import { PluginRequestBody, type BodyOwner } from './request-body.js';
import { BodyLimit } from '../server/body-limit.js';
import type {
  HookData,
  Next,
  PluginRequest,
  PluginResponse,
  PluginStats,
  ProxyInfo,
  TargetResponse,
} from './types.js';

/** What every exchange of one pipeline shares. */
export interface ExchangeEnv {
  readonly log: Logger;
  readonly stats: PluginStats;
  /** Bound on a hook that has not called next; undefined → the server's requestTimeoutMs; 0 → none. */
  readonly hookTimeoutMs: number | undefined;
}

const proxyInfos = new WeakMap<CompiledRoute, ProxyInfo>();

function proxyInfo(route: CompiledRoute, target: UpstreamTarget | undefined): ProxyInfo {
  let p = proxyInfos.get(route);
  if (!p) {
    const action = route.action;
    p = {
      name: route.name,
      base_path: route.prefix || '/',
      url: target ? target.origin + target.path : '',
      secure: target?.protocol === 'https:',
      timeout: action.type === 'proxy' ? action.options.readTimeoutMs : undefined,
    };
    proxyInfos.set(route, p);
  }
  return p;
}

/** Lazily computed `req.reqUrl` (most plugins never read it). */
function defineReqUrl(req: PluginRequest): void {
  let cached: UrlWithParsedQuery | undefined;
  Object.defineProperty(req, 'reqUrl', {
    configurable: true,
    enumerable: true,
    get: () => (cached ??= parseUrl(req.url ?? '/', true)),
    set: (v: UrlWithParsedQuery) => {
      cached = v;
    },
  });
}

function portOf(target: UpstreamTarget): number {
  return Number(target.origin.slice(target.origin.lastIndexOf(':') + 1));
}

export class Exchange implements UpstreamHandler, BodyOwner {
  private readonly req: PluginRequest;
  private readonly res: PluginResponse;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private waits = 0;
  private lastWait: Stage | undefined;
  /** The client has its answer (or is gone): no further hook runs, late callbacks are ignored. */
  private settled = false;
  private baseStatus = 200;
  private action: CompiledProxy | undefined;
  private target: UpstreamTarget | undefined;
  private initialPath = '';
  private dispatched = false;
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private targetResponse: TargetResponse | null = null;
  private copied: string[] | undefined;
  private headDone = false;
  private queue: Buffer[] = [];
  private processing = false;
  private blocked = false;
  private paused = false;
  private completePending = false;
  private trailers: string[] | null = null;
  private responseDone = false;
  private upstreamClosedFired = false;
  /** A response hook answered: the upstream's end or error no longer matters. */
  private upstreamIgnored = false;

  constructor(
    private readonly env: ExchangeEnv,
    private readonly chain: Chain,
    private readonly ctx: RequestContext,
    private readonly forward: (ctx: RequestContext) => void,
    private readonly pools: PoolRegistry,
  ) {
    this.req = ctx.req as PluginRequest;
    this.res = ctx.res as PluginResponse;
    this.timeoutMs = env.hookTimeoutMs ?? ctx.server?.limits.requestTimeoutMs ?? 0;
  }

  start(): void {
    const { ctx, req, res } = this;
    ctx.plugins = this;
    this.env.stats.incrementRequestCount();
    res.once('close', this.onClose);
    // The fields edgemicro's core puts on req/res before the first hook.
    req.reqStartTimestamp = Date.now();
    req.routedPath = ctx.uri;
    defineReqUrl(req);
    const route = ctx.route!;
    if (route.action.type === 'proxy') {
      this.action = route.action;
      this.target = resolveTarget(ctx, route.action);
      if (!this.target) return this.fail(new Error('invalid upstream URL'), 502);
      this.initialPath = upstreamPath(ctx, route.action, this.target);
      req.targetHostname = this.target.hostname;
      req.targetPort = portOf(this.target);
      req.targetPath = this.initialPath;
      req.targetSecure = this.target.protocol === 'https:';
      req.targetTimeout = this.target.options.readTimeoutMs;
    }
    res.proxy = proxyInfo(route, this.target);
    if (this.chain.onrequest.length) this.run(this.chain.onrequest, null, this.afterRequestHooks);
    else this.afterRequestHooks(undefined, false);
  }

  // ---- chain runner ----

  /** Run stages in order; `data` flows through `next(null, data)`. Synchronous `next` calls loop without recursion. */
  run(
    stages: readonly Stage[],
    data: HookData,
    cb: (err: unknown, stop: boolean, data: HookData) => void,
    always = false,
  ): void {
    let i = 0;
    let current = data;
    const answerStops = stages[0]?.event === 'onrequest' || stages[0]?.event === 'onresponse';
    const handle = (stage: Stage, args: unknown[]): boolean => {
      const err = args[0];
      if (err === true) {
        cb(undefined, true, current);
        return false;
      }
      if (err) {
        this.env.log.warn({ plugin: stage.plugin, event: stage.event, err: errorText(err) }, 'plugin error');
        cb(err, false, current);
        return false;
      }
      if (args.length >= 2) current = (args[1] ?? null) as HookData;
      if (answerStops && (this.res.headersSent || this.res.writableEnded)) {
        cb(undefined, true, current);
        return false;
      }
      return true;
    };
    const loop = (): void => {
      while (i < stages.length) {
        if (this.settled && !always) return;
        const stage = stages[i++]!;
        let waiting = false;
        let result: unknown[] | undefined;
        const next: Next = (...args: unknown[]) => {
          if (result) return;
          result = args;
          if (!waiting) return;
          this.endWait();
          if (this.settled && !always) return;
          if (handle(stage, args)) loop();
        };
        try {
          this.call(stage, current, next);
        } catch (err) {
          if (result)
            this.env.log.warn(
              { plugin: stage.plugin, event: stage.event, err: errorText(err) },
              'plugin threw after calling next',
            );
          else result = [err ?? new Error(`plugin ${stage.plugin} threw`)];
        }
        if (!result) {
          waiting = true;
          this.beginWait(stage);
          return;
        }
        if (!handle(stage, result)) return;
      }
      cb(undefined, false, current);
    };
    loop();
  }

  private call(stage: Stage, data: HookData, next: Next): void {
    const fn = stage.fn as (...args: unknown[]) => void;
    switch (stage.arity) {
      case 3:
        return fn.call(stage.self, this.req, this.res, next);
      case 4:
        return fn.call(stage.self, this.req, this.res, data, next);
      case 5:
        return fn.call(stage.self, this.req, this.res, this.targetResponse, data, next);
      default:
        // edgemicro calls other arities without arguments.
        return fn.call(stage.self);
    }
  }

  private beginWait(stage: Stage): void {
    this.waits++;
    this.lastWait = stage;
    if (!this.timeoutMs || this.settled) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onTimeout, this.timeoutMs);
  }

  private endWait(): void {
    if (this.waits > 0) this.waits--;
  }

  private readonly onTimeout = (): void => {
    if (this.waits === 0 || this.settled) return;
    const s = this.lastWait;
    this.env.log.warn(
      { plugin: s?.plugin, event: s?.event, timeoutMs: this.timeoutMs },
      'plugin did not call next in time',
    );
    this.fail(new Error('Gateway timed out waiting for a plugin'), 504);
  };

  // ---- failure and client close ----

  /** edgemicro's error answer (§4.9); the upstream exchange, if any, is aborted. */
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
    this.dropCopiedHeaders();
    answerPluginError(ctx, err, status ?? pluginErrorStatus(res.statusCode, this.baseStatus));
  }

  tooLarge(): void {
    if (this.settled) return;
    this.settled = true;
    this.abortUpstream?.(new Error('request body too large'));
    this.dropCopiedHeaders();
    failRequest(this.ctx, 'payload_too_large', undefined, true);
  }

  private dropCopiedHeaders(): void {
    if (this.copied) for (const n of this.copied) this.res.removeHeader(n);
    this.copied = undefined;
  }

  private readonly onClose = (): void => {
    if (this.timer) clearTimeout(this.timer);
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
  };

  private fireUpstreamClosed(): void {
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
    if (chain.onrequest.length) {
      // Plugins edit req.headers; the engine builds upstream headers from rawHeaders.
      const raw: string[] = [];
      const h = req.headers;
      for (const k in h) {
        const v = h[k];
        if (v === undefined || k.charCodeAt(0) === 58) continue;
        if (Array.isArray(v)) for (const x of v) raw.push(k, x);
        else raw.push(k, String(v));
      }
      Object.defineProperty(req, 'rawHeaders', {
        value: raw,
        writable: true,
        configurable: true,
        enumerable: true,
      });
      ctx.headers = h;
    }
    const action = this.action;
    const changed =
      action !== undefined &&
      (req.targetHostname !== this.target!.hostname ||
        Number(req.targetPort) !== portOf(this.target!) ||
        req.targetSecure !== (this.target!.protocol === 'https:') ||
        req.targetPath !== this.initialPath);
    if (
      !action ||
      action.cache ||
      req.headers.upgrade !== undefined ||
      (!changed && !chain.requestBody && !chain.exchange)
    ) {
      // Fast path: the engine forwards (or answers) as it would without plugins.
      this.forward(ctx);
      return;
    }
    this.prepareDispatch(action, changed);
  };

  private prepareDispatch(action: CompiledProxy, changed: boolean): void {
    const { ctx, req, chain } = this;
    let target = this.target!;
    if (changed) {
      const host = req.targetHostname.includes(':') ? `[${req.targetHostname}]` : req.targetHostname;
      try {
        target = resolveUpstream(
          `${req.targetSecure ? 'https' : 'http'}://${host}:${Number(req.targetPort)}`,
          action.options,
        );
      } catch {
        return this.fail(new Error('invalid target set by a plugin'), 502);
      }
      this.target = target;
    }
    const route = ctx.route!;
    const limit = route.maxBodySize >= 0 ? route.maxBodySize : (ctx.server?.limits.maxBodySize ?? 0);
    if (hasRequestBody(ctx)) {
      let body = ctx.req as NodeJS.ReadableStream;
      if (chain.requestBody)
        body = new PluginRequestBody(ctx.req, this, chain.ondata_request, chain.onend_request, limit);
      else if (limit > 0 && ctx.headers['content-length'] === undefined)
        body = ctx.req.pipe(new BodyLimit(limit, () => this.tooLarge()));
      return this.dispatch(action, target, body, null);
    }
    if (!chain.onend_request.length) return this.dispatch(action, target, null, null);
    // No body: the end hooks still fire (edgemicro) and may produce one.
    this.run(chain.onend_request, null, (err, stop, out) => {
      if (err) return this.fail(err);
      if (this.settled || stop || this.res.headersSent) return;
      const buf =
        out === null || out instanceof Error ? null : typeof out === 'string' ? Buffer.from(out) : out;
      this.dispatch(action, target, null, buf && buf.length ? buf : null);
    });
  }

  private dispatch(
    action: CompiledProxy,
    target: UpstreamTarget,
    stream: NodeJS.ReadableStream | null,
    buffer: Buffer | null,
  ): void {
    const { ctx, req, res, chain } = this;
    let headers = upstreamHeaders(ctx, action, target, ctx.snapshot);
    if (chain.requestBody || buffer) {
      // The body may change size: send it chunked (edgemicro always does), or with the new length.
      const kept: string[] = [];
      for (let i = 0; i < headers.length; i += 2)
        if (headers[i]!.toLowerCase() !== 'content-length') kept.push(headers[i]!, headers[i + 1]!);
      if (buffer) kept.push('content-length', String(buffer.length));
      headers = kept;
    }
    const options = dispatchOptions(ctx, action, target, req.targetPath || '/', headers, stream);
    if (buffer) options.body = buffer;
    ctx.upstream = target.origin;
    if ((req as { expectContinue?: boolean }).expectContinue && !res.headersSent) res.writeContinue();
    this.dispatched = true;
    const send = (o: typeof options): void => {
      try {
        this.pools.get(target).dispatch(o, this);
      } catch (err) {
        this.onError(err as Error);
      }
    };
    // The data hooks run as the body arrives; what they produce is buffered before the dispatch.
    if (stream && action.requestBuffering)
      sendBuffered(res, options, bufferSettings(ctx.server!.limits), send, (err) => this.onError(err));
    else send(options);
  }

  // ---- upstream handler: the response ----

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.settled) abort(new Error('request already answered'));
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true;
    const res = this.res;
    if (this.settled || res.headersSent || res.writableEnded) return false;
    this.resume = resume;
    const raw = forwardableResponseHeaders(rawHeaders);
    const headers: IncomingHttpHeaders = {};
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i]!.toLowerCase();
      const v = raw[i + 1]!;
      const prev = headers[lower];
      if (prev === undefined) headers[lower] = lower === 'set-cookie' ? [v] : v;
      else if (Array.isArray(prev)) prev.push(v);
      else headers[lower] = `${prev}, ${v}`;
    }
    this.targetResponse = { statusCode, statusMessage: statusText, headers, rawHeaders: raw };
    res.statusCode = statusCode;
    this.baseStatus = statusCode;
    if (!this.chain.onresponse.length) {
      this.afterResponseHead(undefined, false);
      return true;
    }
    let sync = true;
    let syncDone = false;
    this.run(this.chain.onresponse, null, (err, stop) => {
      this.afterResponseHead(err, stop);
      if (sync) syncDone = true;
      else this.pump();
    });
    sync = false;
    if (syncDone) return true;
    this.paused = true;
    return false;
  }

  private afterResponseHead(err: unknown, stop: boolean): void {
    if (this.settled) return;
    if (err) return this.fail(err);
    const { ctx, res, chain } = this;
    if (stop || res.headersSent || res.writableEnded) {
      // A response hook answered (or will, after next(true)): the upstream body is not wanted.
      this.upstreamIgnored = true;
      this.abortUpstream?.(new Error('answered by a plugin'));
      if (res.writableEnded) this.settled = true;
      else this.beginWait(chain.onresponse[0]!);
      return;
    }
    // Target headers, unless a plugin set the same name on res (its value wins) or deleted it from targetResponse.headers.
    const copied: string[] = [];
    const th = this.targetResponse!.headers;
    for (const name in th) {
      if (res.hasHeader(name)) continue;
      if (chain.responseBody && name === 'content-length') continue;
      res.setHeader(name, th[name]!);
      copied.push(name);
    }
    const added: string[] = [];
    addedResponseHeaders(ctx, added);
    for (let i = 0; i < added.length; i += 2) append(res, added[i]!, added[i + 1]!, copied);
    this.copied = copied;
    ctx.status = res.statusCode;
    // The target's reason phrase goes with its status (edgemicro copies it); a status a hook set gets node's.
    if (res.statusCode === this.baseStatus && !res.statusMessage && this.targetResponse!.statusMessage)
      res.statusMessage = this.targetResponse!.statusMessage;
    // Without body hooks the head goes out now; with them, hooks may still set headers until the first write (edgemicro).
    if (!chain.responseBody) res.writeHead(res.statusCode);
    this.headDone = true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled || this.upstreamIgnored) return false;
    if (this.headDone && !this.chain.responseBody && !this.queue.length) {
      this.write(chunk);
      if (this.blocked) this.paused = true;
      return !this.blocked;
    }
    this.queue.push(chunk);
    this.pump();
    const ok = this.headDone && !this.processing && !this.blocked;
    if (!ok) this.paused = true;
    return ok;
  }

  onComplete(trailers: string[] | null): void {
    if (this.settled || this.upstreamIgnored) return;
    this.trailers = trailers;
    this.completePending = true;
    this.pump();
  }

  onError(err: Error): void {
    if (this.settled || this.upstreamIgnored) return;
    const e = classifyUpstreamError(err);
    const { ctx, res } = this;
    const afterHead = this.targetResponse !== null;
    if (afterHead) this.env.stats.incrementResponseErrorCount();
    else this.env.stats.incrementRequestErrorCount();
    const stages = afterHead ? this.chain.onerror_response : this.chain.onerror_request;
    const finish = (): void => {
      if (afterHead) this.fireUpstreamClosed();
      if (this.settled) return;
      this.settled = true;
      ctx.error = e.code;
      if (res.writableEnded) return;
      if (res.headersSent) return void res.destroy(err);
      this.dropCopiedHeaders();
      failRequest(ctx, e.code, e.detail, false, e.cause ?? err);
    };
    if (!stages.length) return finish();
    this.run(stages, err, (herr) => {
      if (herr) this.env.log.warn({ err: errorText(herr) }, 'error hook failed');
      finish();
    });
  }

  /** Move queued chunks through the data hooks to the client, in order, honouring backpressure. */
  private pump(): void {
    const chain = this.chain;
    while (!this.settled && this.headDone && !this.processing && !this.blocked && this.queue.length) {
      const chunk = this.queue.shift()!;
      if (!chain.ondata_response.length) {
        this.write(chunk);
        continue;
      }
      this.processing = true;
      let sync = true;
      this.run(chain.ondata_response, chunk, (err, stop, out) => {
        this.processing = false;
        if (err) return this.fail(err);
        if (!stop && out !== null && !(out instanceof Error)) this.write(out);
        if (!sync) this.pump();
      });
      sync = false;
    }
    if (this.settled || !this.headDone || this.processing || this.blocked || this.queue.length) return;
    if (this.completePending) {
      this.completePending = false;
      this.finishResponse();
    } else if (this.paused) {
      this.paused = false;
      this.resume?.();
    }
  }

  private write(data: Buffer | string): void {
    if (this.res.write(data) || this.blocked) return;
    this.blocked = true;
    this.res.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.pump();
  };

  private finishResponse(): void {
    const res = this.res;
    const end = (last: Buffer | string | null): void => {
      this.responseDone = true;
      if (this.trailers?.length && !this.chain.responseBody) {
        const t: Record<string, OutgoingHttpHeader> = {};
        for (let i = 0; i < this.trailers.length; i += 2)
          t[String(this.trailers[i])] = String(this.trailers[i + 1]);
        try {
          res.addTrailers(t);
        } catch {
          // Trailers need chunked framing; with a content-length they are dropped (as the engine does).
        }
      }
      if (last === null) res.end();
      else res.end(last);
    };
    if (!this.chain.onend_response.length) return end(null);
    this.run(this.chain.onend_response, null, (err, stop, out) => {
      if (err) return this.fail(err);
      end(stop || out instanceof Error ? null : out);
    });
  }
}

function append(res: PluginResponse, name: string, value: string, copied: string[]): void {
  const prev = res.getHeader(name);
  if (prev === undefined) {
    res.setHeader(name, value);
    copied.push(name.toLowerCase());
  } else res.setHeader(name, Array.isArray(prev) ? [...prev, value] : [String(prev), value]);
}
