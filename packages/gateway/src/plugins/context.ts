// What the gateway runtime hands the built-in plugins (contracts §3); kept apart from registry.ts so
// plugin modules can import it without importing the registry that imports them.
import type { ApiKeyVerifier, EdgeData } from '../control-plane/types.js';

export interface GatewayPluginContext {
  /** The merged edgemicro config (all sections, env tags resolved). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Proxies, products, keys of the current poll. */
  readonly edge: EdgeData;
  /** undefined in EDGEMICRO_LOCAL mode. */
  readonly verifier: ApiKeyVerifier | undefined;
  readonly mode: 'edge' | 'local' | 'local-proxy' | 'standalone';
  readonly org: string;
  readonly env: string;
  /** Never logged. */
  readonly key?: string;
  readonly secret?: string;
}
