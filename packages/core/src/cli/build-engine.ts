// Build an engine from a validated config the way `gatehouse serve` runs it: the engine itself plus
// the plugin pipeline when the config names plugins. Shared by single-process serve and each worker;
// a single-process reload builds the pipeline afresh (plugins re-initialised with their new config).
import { resolve } from 'node:path';
import type { Gatehouse } from '../gatehouse.js';
import type { GatehouseConfig } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import type { Logger } from '../observability/logger.js';
import type { PluginPipeline } from '../pipeline/pipeline.js';

/** Create (not start) the engine for `config`; relative paths in it resolve against `baseDir`. */
export async function buildEngine(config: GatehouseConfig, baseDir: string): Promise<Gatehouse> {
  // Loaded here, not at the top: a cluster primary never pays for the engine's modules.
  const { createGatehouse } = await import('../gatehouse.js');
  const { createLogger } = await import('../observability/logger.js');
  const logger = createLogger(config.log);
  // The pipeline first: the engine refuses a config naming plugins it cannot run.
  const pipeline = config.plugins ? await pluginPipeline(config, baseDir, logger) : undefined;
  return createGatehouse({ config, baseDir, logger, pipeline });
}

/** Reload `engine` with `input`: validated, its plugins loaded and initialised anew, then swapped in
 *  together with the config. A failure is logged and counted, and the running config keeps serving. */
export async function reloadEngine(engine: Gatehouse, input: unknown, baseDir: string): Promise<void> {
  let pipeline: PluginPipeline | undefined;
  try {
    const config = validateConfig(input);
    pipeline = config.plugins ? await pluginPipeline(config, baseDir, engine.logger) : undefined;
  } catch (err) {
    engine.logger.error(
      { err: { message: (err as Error)?.message ?? String(err) } },
      'configuration rejected; keeping the running one',
    );
    engine.metrics.reloads.inc({ result: 'failure' });
    throw err;
  }
  await engine.reload(input, { pipeline });
}

/** Load every plugin the routes name from `plugins.dir`, in first-use order. */
async function pluginPipeline(
  config: GatehouseConfig,
  baseDir: string,
  logger: Logger,
): Promise<PluginPipeline> {
  // Loaded on demand: a config without plugins does not pay for the pipeline's modules.
  const { createPluginPipeline, loadPlugins } = await import('../pipeline/index.js');
  const names = [...new Set(config.servers.flatMap((s) => s.routes.flatMap((r) => r.plugins ?? [])))];
  const plugins = await loadPlugins({
    sequence: names,
    dir: resolve(baseDir, config.plugins!.dir),
    // A mutable copy: the validated config is frozen, and edgemicro plugins may change their sections.
    config: structuredClone(config.plugins!.config ?? {}),
    logger,
  });
  return createPluginPipeline({ plugins, logger, hookTimeoutMs: config.plugins!.hookTimeoutMs });
}
