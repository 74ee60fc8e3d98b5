// The API programme the auth tests guard: proxy edgemicro_shop at /shop; product shop-public
// entitles /shop/public/** only, product shop-all everything; API keys for each.
import type { EdgeData, EdgeProduct } from '../../../src/control-plane/types.js';
import type { GatewayPluginContext } from '../../../src/plugins/registry.js';
import { createEdgeVerifier } from '../../../src/plugins/verify/edge-verifier.js';
import type { TestKeys } from './keys.js';

export const EDGE_KEY = 'edge-key-canary-7f3a';
export const EDGE_SECRET = 'edge-secret-canary-91bc';
export const KEY_PUBLIC = 'apikey-public-canary-55d1';
export const KEY_ALL = 'apikey-all-canary-0e2c';

export const APPS = {
  [KEY_PUBLIC]: { products: ['shop-public'] },
  [KEY_ALL]: { products: ['shop-all'] },
};

const product = (name: string, apiResources: string[]): EdgeProduct => ({
  name,
  apiResources,
  proxies: ['edgemicro_shop', 'edgemicro_keys', 'edgemicro_v2'],
  environments: ['test'],
  scopes: [],
});

export function edgeData(keys: TestKeys): EdgeData {
  return {
    proxies: [],
    products: [product('shop-public', ['/public/**']), product('shop-all', ['/**'])],
    keys: { publicKeyPem: keys.publicPem },
  };
}

export function pluginContext(
  keys: TestKeys,
  verifyUrl: string | undefined,
  sections: Record<string, unknown> = {},
  mode: GatewayPluginContext['mode'] = 'edge',
): GatewayPluginContext {
  return {
    config: { edgemicro: { port: 8000 }, ...sections },
    edge: edgeData(keys),
    verifier: verifyUrl
      ? createEdgeVerifier({ url: verifyUrl, key: EDGE_KEY, secret: EDGE_SECRET })
      : undefined,
    mode,
    org: 'org',
    env: 'test',
    key: EDGE_KEY,
    secret: EDGE_SECRET,
  };
}
