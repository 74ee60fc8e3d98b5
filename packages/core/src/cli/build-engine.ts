// Build an engine from a validated config the way `gatehouse serve` runs it: the engine itself plus
// the plugin pipeline when the config names plugins. Shared by single-process serve and each worker.
import { resolve } from 'node:path';
import type { Gatehouse } from '../gatehouse.js';
import type { GatehouseConfig } from '../config/types.js';

/** Create (not start) the engine for `config`; relative paths in it resolve against `baseDir`. */
export async function buildEngine(config: GatehouseConfig, baseDir: string): Promise<Gatehouse> {
  // Loaded here, not at the top: a cluster primary never pays for the engine's modules.
  const { createGatehouse } = await import('../gatehouse.js');
  const engine = createGatehouse({ config, baseDir });
  if (config.plugins) engine.setPipeline(await pluginPipeline(config, baseDir, engine));
  return engine;
}

/** Load every plugin the routes name from `plugins.dir`, in first-use order. */
async function pluginPipeline(config: GatehouseConfig, baseDir: string, engine: Gatehouse) {
  // Loaded on demand: a config without plugins does not pay for the pipeline's modules.
  const { createPluginPipeline, loadPlugins } = await import('../pipeline/index.js');
  const names = [...new Set(config.servers.flatMap((s) => s.routes.flatMap((r) => r.plugins ?? [])))];
  const plugins = await loadPlugins({
    sequence: names,
    dir: resolve(baseDir, config.plugins!.dir),
    config: config.plugins!.config ?? {},
    logger: engine.logger,
  });
  return createPluginPipeline({
    plugins,
    logger: engine.logger,
    hookTimeoutMs: config.plugins!.hookTimeoutMs,
  });
}
