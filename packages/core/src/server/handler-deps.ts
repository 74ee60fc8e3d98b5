// What the request handler shares with the subrequest and upgrade paths it calls: the handler's
// dependencies, the error answer, the upstream of a route and a caching route's cache. Apart from
// request-handler.ts so that those paths do not import the handler that imports them.
import type { CompiledProxy, Snapshot, UpstreamTarget } from '../config/compile.js';
import { resolveUpstream } from '../config/compile.js';
import type { PoolRegistry } from '../upstream/pools.js';
import { ResponseCache } from '../upstream/response-cache.js';
import { sendError, STATUS, type ErrorCode } from './errors.js';
import type { RequestContext } from './request-context.js';

export interface EngineHooks {
  /** Called once per request when it is over (access log, metrics). */
  finish(ctx: RequestContext): void;
}

/** Plugin pipeline entry point, set by the pipeline package; undefined routes take the fast path.
 *  `forward` continues on the engine's own path; `pools` lets a pipeline that transforms bodies or
 *  response heads dispatch upstream itself. */
export interface PipelineRunner {
  run(ctx: RequestContext, forward: (ctx: RequestContext) => void, pools: PoolRegistry): void;
}

export interface HandlerDeps {
  snapshot(): Snapshot;
  pools: PoolRegistry;
  hooks: EngineHooks;
  pipeline: PipelineRunner | undefined;
  caches: WeakMap<CompiledProxy, ResponseCache>;
  draining(): boolean;
}

export function fail(ctx: RequestContext, code: ErrorCode, detail?: string, close = false): void {
  ctx.error = code;
  ctx.status = STATUS[code];
  sendError(ctx.res, code, detail, close);
}

const templateTargets = new WeakMap<CompiledProxy, Map<string, UpstreamTarget>>();

export function resolveTarget(ctx: RequestContext, action: CompiledProxy): UpstreamTarget | undefined {
  if (action.upstream) return action.upstream;
  const url = action.upstreamTemplate!.evaluate(ctx);
  let cache = templateTargets.get(action);
  if (!cache) templateTargets.set(action, (cache = new Map()));
  let t = cache.get(url);
  if (!t) {
    try {
      t = resolveUpstream(url, action.options);
    } catch {
      return undefined;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(url, t);
  }
  return t;
}

/** The response cache of a caching route (one per compiled action, so a reload starts afresh). */
export function cacheFor(deps: HandlerDeps, action: CompiledProxy): ResponseCache {
  let cache = deps.caches.get(action);
  if (!cache) deps.caches.set(action, (cache = new ResponseCache(action.cache!.maxEntries)));
  return cache;
}
