// The upstream of a proxy action for one request (constant, or from a URL template, memoised per
// action), and the response cache of a caching action.
import type { CompiledProxy, UpstreamTarget } from '../config/compile.js';
import { resolveUpstream } from '../config/compile.js';
import { ResponseCache } from '../upstream/response-cache.js';
import type { HandlerDeps } from './handler-deps.js';
import type { RequestContext } from './request-context.js';

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
