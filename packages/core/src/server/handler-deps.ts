// What the request path needs from the engine, in one place that the handler, upgrades, subrequests
// and the compiled snapshot import (no import runs back into request-handler.ts).
import type { CompiledProxy, Snapshot } from '../config/compile.js';
import type { PoolRegistry } from '../upstream/pools.js';
import type { ResponseCache } from '../upstream/response-cache.js';
import type { ExchangeInterceptor } from './interceptor.js';
import type { RequestContext } from './request-context.js';

interface EngineHooks {
  /** Called once per request when it is over (access log, metrics). */
  finish(ctx: RequestContext): void;
}

/** Plugin pipeline entry point, set by the pipeline package; routes without plugins never call it.
 *  `proceed` continues on the engine's own path (the route's action); an `interceptor` carries what
 *  the request hooks changed and wraps the response relay with the response hooks. */
export interface PipelineRunner {
  run(ctx: RequestContext, proceed: (ctx: RequestContext, interceptor?: ExchangeInterceptor) => void): void;
  /** The plugin names this runner can run: a route naming any other is a config error. */
  pluginNames(): Iterable<string>;
}

export interface HandlerDeps {
  snapshot(): Snapshot;
  pools: PoolRegistry;
  hooks: EngineHooks;
  caches: WeakMap<CompiledProxy, ResponseCache>;
  draining(): boolean;
}
