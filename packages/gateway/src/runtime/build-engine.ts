// Build the engine for a translated config, in a worker (or a test): core's engine with edgemicro's
// error renderer registered, and the plugin pipeline of the sequence (built-ins first, then the
// custom plugin directory, as edgemicro resolves names).
import { createWriteStream } from 'node:fs';
import {
  createGatehouse,
  createLogger,
  createPluginPipeline,
  loadPlugins,
  validateConfig,
  type Gatehouse,
  type GatehouseConfig,
} from '@gatehouse/core';
import { builtinModules } from './builtins.js';
import { renderEdgemicroError } from './error-renderer.js';
import { RUNTIME_KEY, runtimeDataOf } from './runtime-data.js';

export const ERROR_RENDERER = 'edgemicro';

let renderersProbe: boolean | undefined;

/** Whether this core has the error-renderer slot (`ServerConfig.errors`, contracts §1). */
export function coreHasErrorRenderers(): boolean {
  if (renderersProbe === undefined) {
    try {
      validateConfig({ servers: [{ listen: [{ port: 1 }], routes: [], errors: 'json' }] });
      renderersProbe = true;
    } catch {
      renderersProbe = false;
    }
  }
  return renderersProbe;
}

/** Create (not start) the engine for a config the gateway translated. */
export async function buildGatewayEngine(config: GatehouseConfig, baseDir: string): Promise<Gatehouse> {
  const data = runtimeDataOf(config);
  const logger = data?.logFile
    ? createLogger(config.log, createWriteStream(data.logFile, { flags: 'a', mode: 0o600 }))
    : undefined;
  const options = {
    config,
    baseDir,
    ...(logger ? { logger } : {}),
    errorRenderers: { [ERROR_RENDERER]: renderEdgemicroError },
  };
  const engine = createGatehouse(options);
  if (data && data.sequence.length) {
    const merged: Record<string, unknown> = { ...data.config };
    delete merged[RUNTIME_KEY];
    if (data.key !== undefined && data.secret !== undefined)
      merged.keys = { key: data.key, secret: data.secret };
    const plugins = await loadPlugins({
      sequence: data.sequence,
      ...(data.pluginDir ? { dir: data.pluginDir } : {}),
      builtins: await builtinModules(data, undefined),
      config: merged,
      logger: engine.logger,
    });
    engine.setPipeline(createPluginPipeline({ plugins, logger: engine.logger }));
  }
  return engine;
}
