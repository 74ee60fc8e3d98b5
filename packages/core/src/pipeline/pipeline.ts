// The engine's PipelineRunner for routes that name plugins: the route's list selects and orders
// plugins from a registry; each list is compiled once into a chain (per-event arrays and path flags).
import type { Logger } from '../observability/logger.js';
import type { RequestContext } from '../server/request-context.js';
import type { PipelineRunner } from '../server/handler-deps.js';
import type { ExchangeInterceptor } from '../server/interceptor.js';
import { compileChain, type Chain } from './chain.js';
import { answerPluginError } from './error-response.js';
import type { ExchangeEnv } from './hook-runner.js';
import { PluginExchange } from './plugin-exchange.js';
import { createPluginStats } from './plugin-logger.js';
import type { LoadedPlugin, PluginStats } from './types.js';

export type PluginRegistry =
  readonly LoadedPlugin[] | ReadonlyMap<string, LoadedPlugin> | Readonly<Record<string, LoadedPlugin>>;

export interface PluginPipelineOptions {
  /** Plugins by name (an array is keyed by each plugin's name). Routes pick from these. */
  plugins: PluginRegistry;
  /** The engine's logger (plugin errors and timeouts are logged here). */
  logger: Logger;
  /** Bound on a hook that never calls next. Default: the server's `limits.requestTimeoutMs`; 0 = none. */
  hookTimeoutMs?: number;
  /** Counters shared with the plugins (`stats` passed to init); one is created when absent. */
  stats?: PluginStats;
}

export interface PluginPipeline extends PipelineRunner {
  readonly stats: PluginStats;
  /** Swap the registry (e.g. after plugins were reloaded); requests already running keep their chain. */
  setPlugins(plugins: PluginRegistry): void;
}

function toMap(plugins: PluginRegistry): Map<string, LoadedPlugin> {
  if (plugins instanceof Map) return new Map(plugins);
  if (Array.isArray(plugins)) return new Map((plugins as readonly LoadedPlugin[]).map((p) => [p.name, p]));
  return new Map(Object.entries(plugins as Record<string, LoadedPlugin>));
}

class Pipeline implements PluginPipeline {
  readonly stats: PluginStats;
  private registry: Map<string, LoadedPlugin>;
  // Keyed by the compiled route's list: one chain per route per config snapshot.
  private chains = new WeakMap<readonly string[], Chain>();
  private readonly env: ExchangeEnv;
  private readonly log: Logger;

  constructor(options: PluginPipelineOptions) {
    this.registry = toMap(options.plugins);
    this.stats = options.stats ?? createPluginStats();
    this.log = options.logger.child({ component: 'plugins' });
    this.env = { log: this.log, stats: this.stats, hookTimeoutMs: options.hookTimeoutMs };
  }

  pluginNames(): Iterable<string> {
    return this.registry.keys();
  }

  setPlugins(plugins: PluginRegistry): void {
    this.registry = toMap(plugins);
    this.chains = new WeakMap();
  }

  run(ctx: RequestContext, proceed: (ctx: RequestContext, interceptor?: ExchangeInterceptor) => void): void {
    const names = ctx.route!.plugins;
    let chain = this.chains.get(names);
    if (!chain) {
      chain = compileChain(names, this.registry);
      this.chains.set(names, chain);
      if (chain.missing.length)
        this.log.error(
          { route: ctx.route!.name, missing: chain.missing },
          'route names plugins that are not loaded; refusing its requests',
        );
    }
    if (chain.missing.length) {
      // Fail closed: running a route without (say) its auth plugin would be worse than refusing it.
      answerPluginError(ctx, new Error(`plugin not found: ${chain.missing.join(', ')}`), 500);
      return;
    }
    new PluginExchange(this.env, chain, ctx, proceed).start();
  }
}

/** A PipelineRunner for `createGatehouse({ pipeline })` / `gatehouse.setPipeline()`. */
export function createPluginPipeline(options: PluginPipelineOptions): PluginPipeline {
  return new Pipeline(options);
}
