// Build the engine for a translated config, in a worker (or a test): core's engine with edgemicro's
// error renderer registered, and the plugin pipeline of the sequence (built-ins first, then the
// custom plugin directory, as edgemicro resolves names).
import {
  createGatehouse,
  createLogger,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  loadPlugins,
  type Gatehouse,
  type GatehouseConfig,
} from '@gatehouse/core';
import { builtinModules } from './builtins.js';
import { renderEdgemicroError } from './error-renderer.js';
import { skipOnExcludedUrls } from './excluded-urls.js';
import { RotatingLogFile } from './rotating-log.js';
import { isWildcard, wildcardGates } from './wildcard-base-path.js';
import { RUNTIME_KEY, runtimeDataOf } from './runtime-data.js';

/** The name edgemicro's renderer is registered under (`errors` of every gateway server). */
export const ERROR_RENDERER = 'edgemicro';

/** Create (not start) the engine for a config the gateway translated. */
export async function buildGatewayEngine(config: GatehouseConfig, baseDir: string): Promise<Gatehouse> {
  const data = runtimeDataOf(config);
  const logger = data?.logFiles
    ? createLogger(config.log, new RotatingLogFile(data.logFiles))
    : createLogger(config.log);
  const errorRenderers = { [ERROR_RENDERER]: renderEdgemicroError };
  const wildcards = data?.edge.proxies.some((p) => isWildcard(p.base_path)) ?? false;
  if (!data || (!data.sequence.length && !wildcards))
    return createGatehouse({ config, baseDir, logger, errorRenderers });
  const merged: Record<string, unknown> = { ...data.config };
  delete merged[RUNTIME_KEY];
  if (data.key !== undefined && data.secret !== undefined)
    merged.keys = { key: data.key, secret: data.secret };
  const stats = createPluginStats();
  const plugins = data.sequence.length
    ? await loadPlugins({
        sequence: data.sequence,
        ...(data.pluginDir ? { dir: data.pluginDir } : {}),
        builtins: builtinModules(data),
        config: merged,
        logger,
        stats,
      })
    : [];
  const gates = await wildcardGates(data.edge.proxies, (n) => createPluginLogger(logger, n), stats);
  const pipeline = createPluginPipeline({
    plugins: [...gates, ...skipOnExcludedUrls(plugins, data.excludeUrls)],
    logger,
  });
  return createGatehouse({ config, baseDir, logger, errorRenderers, pipeline });
}
