// The built-in edgemicro plugins come from `src/plugins/registry.ts` (contracts §3, its own issue).
// Loaded by a computed specifier so that this package builds and runs before that module exists:
// without it, a sequence naming a built-in is refused (fail closed), never run without the plugin.
import type { PluginModule } from '@gatehouse/core';
import type { ApiKeyVerifier } from '../control-plane/types.js';
import type { GatewayRuntimeData } from './runtime-data.js';

/** edgemicro's built-in plugin names (reference §5). */
export const EDGEMICRO_BUILTIN_NAMES: readonly string[] = [
  'accumulate-request',
  'accumulate-response',
  'analytics',
  'header-uppercase',
  'oauth',
  'quota',
  'quota-memory',
  'spikearrest',
  'transform-uppercase',
  'accesscontrol',
  'json2xml',
  'healthcheck',
  'cloud-foundry-route-service',
  'bauth',
  'cors',
  'monitor',
  'apikeys',
  'oauthv2',
  'extauth',
  'metrics',
  'invalidHeader',
];

interface RegistryModule {
  builtinPlugins(ctx: unknown): ReadonlyMap<string, PluginModule>;
  BUILTIN_PLUGIN_NAMES: readonly string[];
}

const REGISTRY = '../plugins/registry.js';
let registry: Promise<RegistryModule | undefined> | undefined;

function loadRegistry(): Promise<RegistryModule | undefined> {
  registry ??= (import(REGISTRY) as Promise<RegistryModule>).then(
    (m) => (typeof m.builtinPlugins === 'function' ? m : undefined),
    () => undefined,
  );
  return registry;
}

/** Names the registry can run (empty before the built-in plugins are part of this build). */
export async function availableBuiltins(): Promise<readonly string[]> {
  return (await loadRegistry())?.BUILTIN_PLUGIN_NAMES ?? [];
}

/** Built-in plugin modules for this runtime, by name. */
export async function builtinModules(
  data: GatewayRuntimeData,
  verifier: ApiKeyVerifier | undefined,
): Promise<Record<string, PluginModule>> {
  const m = await loadRegistry();
  if (!m) return {};
  const map = m.builtinPlugins({
    config: data.config,
    edge: data.edge,
    verifier,
    mode: data.mode,
    org: data.org,
    env: data.env,
    ...(data.key !== undefined ? { key: data.key } : {}),
    ...(data.secret !== undefined ? { secret: data.secret } : {}),
  });
  return Object.fromEntries(map);
}
