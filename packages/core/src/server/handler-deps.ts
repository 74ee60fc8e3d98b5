// What the request path needs from the engine, in one place that the handler, upgrades, subrequests
// and the compiled snapshot import (no import runs back into request-handler.ts).
import type { CompiledProxy, Snapshot } from '../config/compile.js';
import type { PoolRegistry } from '../upstream/pools.js';
import type { ResponseCache } from '../upstream/response-cache.js';
import type { RequestContext } from './request-context.js';

export interface EngineHooks {
  /** Called once per request when it is over (access log, metrics). */
  finish(ctx: RequestContext): void;
}

/** Plugin pipeline entry point, set by the pipeline package; routes without plugins never call it.
 *  `forward` continues on the engine's own path; `pools` lets a pipeline that transforms bodies or
 *  response heads dispatch upstream itself. */
export interface PipelineRunner {
  run(ctx: RequestContext, forward: (ctx: RequestContext) => void, pools: PoolRegistry): void;
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
