// The built-in edgemicro plugins (src/plugins/registry.ts, contracts §3) and the verifyApiKey
// service they use, chosen by mode: Edge's HTTP endpoint (edge, local-proxy), the standalone
// store (standalone), none in EDGEMICRO_LOCAL (the auth, quota and analytics plugins bypass).
import type { PluginModule } from '@gatehouse/core';
import type { ApiKeyVerifier, StandaloneData } from '../control-plane/types.js';
import { BUILTIN_PLUGIN_NAMES, builtinPlugins } from '../plugins/registry.js';
import { createEdgeVerifier } from '../plugins/verify/edge-verifier.js';
import { createLocalVerifier } from '../plugins/verify/local-verifier.js';
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

/** Names this build can run. */
export const AVAILABLE_BUILTINS: readonly string[] = BUILTIN_PLUGIN_NAMES;

function sectionString(
  config: Readonly<Record<string, unknown>>,
  section: string,
  key: string,
): string | undefined {
  const s = config[section];
  if (!s || typeof s !== 'object') return undefined;
  const v = (s as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The verifyApiKey service of this runtime's mode (undefined: no key can be verified). */
function apiKeyVerifier(data: GatewayRuntimeData): ApiKeyVerifier | undefined {
  switch (data.mode) {
    case 'local':
      return undefined;
    case 'standalone':
      return createLocalVerifier(data.edge as StandaloneData);
    case 'edge':
    case 'local-proxy': {
      const url =
        sectionString(data.config, 'oauth', 'verify_api_key_url') ??
        sectionString(data.config, 'apikeys', 'verify_api_key_url');
      if (!url) return undefined; // the auth plugins then refuse API keys (fail closed)
      return createEdgeVerifier({ url, key: data.key ?? '', secret: data.secret ?? '' });
    }
  }
}

/** Built-in plugin modules for this runtime, by name. */
export function builtinModules(data: GatewayRuntimeData): Record<string, PluginModule> {
  const map = builtinPlugins({
    config: data.config,
    edge: data.edge,
    verifier: apiKeyVerifier(data),
    mode: data.mode,
    org: data.org,
    env: data.env,
    ...(data.key !== undefined ? { key: data.key } : {}),
    ...(data.secret !== undefined ? { secret: data.secret } : {}),
  });
  return Object.fromEntries(map);
}
