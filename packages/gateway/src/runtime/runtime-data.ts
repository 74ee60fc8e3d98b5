// What the master hands each worker beside core's native config: the merged edgemicro config, the
// control-plane data of the current poll, the mode and the Edge credentials. It travels inside
// `plugins.config` under one reserved key (core passes that object through untouched) and is taken
// out again before any plugin sees the config.
import type { GatehouseConfig } from '@gatehouse/core';
import type { EdgeData, StandaloneData } from '../control-plane/types.js';
import type { LogFileSpec } from './rotating-log.js';

export type GatewayMode = 'edge' | 'local' | 'local-proxy' | 'standalone';

export interface GatewayRuntimeData {
  readonly mode: GatewayMode;
  readonly org: string;
  readonly env: string;
  /** Never logged. */
  readonly key?: string;
  readonly secret?: string;
  /** The merged edgemicro config (env tags resolved; no edge_config). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly edge: EdgeData | StandaloneData;
  /** Plugin names of every route, in order. */
  readonly sequence: readonly string[];
  /** `edgemicro.plugins.excludeUrls` patterns: paths where only analytics and metrics run. */
  readonly excludeUrls: readonly string[];
  /** Custom plugin directory (`-d`, EDGEMICRO_PLUGIN_DIR, `edgemicro.plugins.dir`). */
  readonly pluginDir?: string;
  /** `logging.dir` files every process appends its JSON lines to (absent: stdout, `to_console`). */
  readonly logFiles?: LogFileSpec;
}

export const RUNTIME_KEY = 'gatehouse:gateway';

export function runtimeDataOf(config: GatehouseConfig): GatewayRuntimeData | undefined {
  const v = config.plugins?.config?.[RUNTIME_KEY];
  return v && typeof v === 'object' ? (v as GatewayRuntimeData) : undefined;
}
