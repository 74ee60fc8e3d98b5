// Load plugins the edgemicro way: a directory per plugin (`package.json` + `index.js`, CommonJS or
// ESM), only the names in the sequence, in that order; a built-in wins over a directory of the same
// name. `init(config, logger, stats)` runs once per plugin and returns its handlers.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../observability/logger.js';
import { nativeHandlers } from './native-plugin.js';
import { pluginDirProblem } from './plugin-dir.js';
import { createPluginLogger, createPluginStats } from './plugin-logger.js';
import type {
  EdgemicroHandlers,
  EdgemicroPluginModule,
  LoadedPlugin,
  NativeHooks,
  NativePlugin,
  PluginConfig,
  PluginLogger,
  PluginStats,
} from './types.js';

export class PluginLoadError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PluginLoadError';
  }
}

export type PluginModule = EdgemicroPluginModule | NativePlugin;

export interface LoadPluginsOptions {
  /** Plugin names in order (edgemicro `edgemicro.plugins.sequence`). */
  sequence: readonly string[];
  /** Directory with one sub-directory per plugin (edgemicro `plugins.dir` / `EDGEMICRO_PLUGIN_DIR`). */
  dir?: string;
  /** Product built-ins by name; a built-in wins over a directory of the same name. */
  builtins?: Readonly<Record<string, PluginModule>>;
  /** The whole (merged) config: `config[name]` is a plugin's section, the rest is shared as `emgConfigs`. */
  config?: Readonly<Record<string, unknown>>;
  /** Every name that is a plugin (their sections are kept out of `emgConfigs`). Default: sequence + built-ins. */
  knownPluginNames?: readonly string[];
  /** The engine's logger; each plugin gets a child tagged with its name. */
  logger: Logger;
  /** Shared counters; one is created when absent. */
  stats?: PluginStats;
}

const require = createRequire(import.meta.url);
const NATIVE_KEYS = [
  'onRequest',
  'onRequestData',
  'onRequestEnd',
  'onRequestError',
  'onRequestClose',
  'onResponse',
  'onResponseData',
  'onResponseEnd',
  'onResponseError',
  'onResponseClose',
];

/** Import one plugin module from `<dir>/<name>` (CommonJS via require, ESM via import). */
export async function importPluginModule(dir: string, name: string): Promise<PluginModule> {
  const problem = pluginDirProblem(dir, name);
  if (problem) throw new PluginLoadError(name, problem);
  const root = resolve(dir, name);
  const pkgFile = join(root, 'package.json');
  const indexFile = join(root, 'index.js');
  let esm = false;
  try {
    esm = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { type?: unknown }).type === 'module';
  } catch (err) {
    throw new PluginLoadError(name, `plugin "${name}": cannot read ${pkgFile}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let mod: unknown;
  try {
    if (esm) {
      const ns = (await import(pathToFileURL(indexFile).href)) as { default?: unknown; init?: unknown };
      mod = typeof ns.init === 'function' ? ns : (ns.default ?? ns);
    } else mod = require(indexFile);
  } catch (err) {
    throw new PluginLoadError(
      name,
      `plugin "${name}" failed to load from ${indexFile}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (typeof mod !== 'function' && typeof (mod as { init?: unknown })?.init !== 'function')
    throw new PluginLoadError(
      name,
      `plugin "${name}" (${indexFile}) does not export init(config, logger, stats)`,
    );
  return mod as PluginModule;
}

/** edgemicro's config for one plugin: its own section (copied) plus `emgConfigs` and the Edge key/secret. */
export function pluginConfig(
  name: string,
  config: Readonly<Record<string, unknown>>,
  pluginNames: ReadonlySet<string>,
): PluginConfig {
  const own = config[name];
  const sub: PluginConfig = own && typeof own === 'object' ? { ...(own as Record<string, unknown>) } : {};
  const emg: Record<string, unknown> = {};
  for (const k of Object.keys(config)) if (k !== 'quotas' && !pluginNames.has(k)) emg[k] = config[k];
  sub.emgConfigs = emg;
  const keys = config.keys as { key?: unknown; secret?: unknown } | undefined;
  if (keys && typeof keys.key === 'string' && typeof keys.secret === 'string') {
    sub.key = keys.key;
    sub.secret = keys.secret;
  }
  return sub;
}

/** Call a module's init and normalise what it returns into edgemicro handlers. */
export async function initPlugin(
  name: string,
  mod: PluginModule,
  config: PluginConfig,
  logger: PluginLogger,
  stats: PluginStats,
): Promise<LoadedPlugin> {
  let result: unknown;
  try {
    if (typeof mod === 'function') result = await mod(config, logger, stats);
    else {
      const init = mod.init as (this: unknown, c: PluginConfig, l: PluginLogger, s: PluginStats) => unknown;
      result = await init.call(mod, config, logger, stats);
    }
  } catch (err) {
    throw new PluginLoadError(
      name,
      `plugin "${name}": init failed: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
  if (!result || typeof result !== 'object')
    throw new PluginLoadError(name, `plugin "${name}": init must return an object of handlers`);
  const native = NATIVE_KEYS.some((k) => typeof (result as Record<string, unknown>)[k] === 'function');
  const handlers: EdgemicroHandlers = native
    ? nativeHandlers(result as NativeHooks)
    : (result as EdgemicroHandlers);
  if (!native) handlers.id = name;
  return { name, handlers };
}

/** Load and initialise the plugins of a sequence; a missing one is an error naming it and the directory. */
export async function loadPlugins(options: LoadPluginsOptions): Promise<LoadedPlugin[]> {
  const config = options.config ?? {};
  const stats = options.stats ?? createPluginStats();
  const names = new Set<string>([
    ...(options.knownPluginNames ?? []),
    ...options.sequence,
    ...Object.keys(options.builtins ?? {}),
  ]);
  const out: LoadedPlugin[] = [];
  for (const name of options.sequence) {
    let mod = options.builtins?.[name];
    if (!mod) {
      if (!options.dir)
        throw new PluginLoadError(
          name,
          `plugin "${name}" is not a built-in and no plugin directory is configured`,
        );
      mod = await importPluginModule(options.dir, name);
    }
    out.push(
      await initPlugin(
        name,
        mod,
        pluginConfig(name, config, names),
        createPluginLogger(options.logger, name),
        stats,
      ),
    );
    options.logger.info({ plugin: name }, 'installed plugin');
  }
  return out;
}
