// The cache file `<org>-<env>-cache-config.yaml` (reference §1.1, §1.13): the source config with its
// env tags still in place (so secrets injected by env are not written to disk) and without
// `edge_config`/`agent`, merged with what Edge served: `proxies`, `product_to_proxy`,
// `product_to_api_resource`, `product_to_scopes`, `quota`, and the keys under `oauth`. Written on
// every successful download; read back when Edge is unreachable at start.
import { renameSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { readYamlFile } from '../config/yaml-file.js';
import type { EdgeData, EdgeProduct, EdgeProxy, JsonWebKeyRecord, QuotaTimeUnit } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The cache document for a raw source config (env tags unreplaced) and a download. */
function cacheDocument(rawSource: Readonly<Obj>, data: EdgeData): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(rawSource)) if (k !== 'edge_config' && k !== 'agent') out[k] = v;
  out.proxies = data.proxies.map((p) => ({ ...p }));
  const toProxy: Record<string, string[]> = {};
  const toResource: Record<string, string[]> = {};
  const toScopes: Record<string, string[]> = {};
  const quota: Record<string, Obj> = {};
  for (const p of data.products) {
    toProxy[p.name] = [...p.proxies];
    toResource[p.name] = [...p.apiResources];
    toScopes[p.name] = [...p.scopes];
    if (p.quota) quota[p.name] = { ...p.quota };
  }
  out.product_to_proxy = toProxy;
  out.product_to_api_resource = toResource;
  out.product_to_scopes = toScopes;
  if (Object.keys(quota).length) out.quota = quota;
  const oauth: Obj = isObj(rawSource.oauth) ? { ...rawSource.oauth } : {};
  if (data.keys.publicKeyPem) oauth.public_key = data.keys.publicKeyPem;
  if (data.keys.jwks) oauth.jwk_keys = JSON.stringify({ keys: data.keys.jwks });
  out.oauth = oauth;
  return out;
}

/** Write atomically (temp file + rename), mode 0600. */
export function writeCacheFile(path: string, rawSource: Readonly<Obj>, data: EdgeData): void {
  const text = yaml.dump(cacheDocument(rawSource, data), { noRefs: true, lineWidth: -1 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The Edge data kept in a cache file; throws EdgemicroConfigError if it cannot be read. */
export function readCacheFile(path: string): EdgeData {
  const doc = readYamlFile(path).value;
  const proxies: EdgeProxy[] = Array.isArray(doc.proxies)
    ? doc.proxies.filter(
        (p): p is EdgeProxy =>
          isObj(p) &&
          typeof p.name === 'string' &&
          typeof p.base_path === 'string' &&
          typeof p.url === 'string',
      )
    : [];
  const maps = (k: string): Record<string, string[]> =>
    isObj(doc[k]) ? (doc[k] as Record<string, string[]>) : {};
  const toProxy = maps('product_to_proxy');
  const toResource = maps('product_to_api_resource');
  const toScopes = maps('product_to_scopes');
  const quota = isObj(doc.quota) ? doc.quota : {};
  const products: EdgeProduct[] = Object.keys(toProxy).map((name) => {
    const q = quota[name];
    return {
      name,
      proxies: toProxy[name] ?? [],
      apiResources: toResource[name] ?? [],
      scopes: toScopes[name] ?? [],
      environments: [],
      ...(isObj(q) && typeof q.allow === 'number' && typeof q.interval === 'number'
        ? { quota: { allow: q.allow, interval: q.interval, timeUnit: q.timeUnit as QuotaTimeUnit } }
        : {}),
    };
  });
  const oauth = isObj(doc.oauth) ? doc.oauth : {};
  let jwks: JsonWebKeyRecord[] | undefined;
  if (typeof oauth.jwk_keys === 'string') {
    try {
      jwks = (JSON.parse(oauth.jwk_keys) as { keys: JsonWebKeyRecord[] }).keys;
    } catch {
      jwks = undefined;
    }
  }
  return {
    proxies,
    products,
    keys: {
      ...(typeof oauth.public_key === 'string' ? { publicKeyPem: oauth.public_key } : {}),
      ...(jwks ? { jwks } : {}),
    },
  };
}
