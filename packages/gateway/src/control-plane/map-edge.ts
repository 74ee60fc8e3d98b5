// Edge's JSON (reference §4.2–§4.4) into the control-plane data shapes, as edgemicro maps it:
// proxies without a base path or URL (or with URL "null") are dropped, quota fields "null" ignored,
// `edgemicro.proxies` and `edge_config.proxyPattern` filter the list.
import { compileWildcard } from '../config/wildcard.js';
import type { EdgeProduct, EdgeProxy, JsonWebKeyRecord, QuotaTimeUnit } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const TIME_UNITS: QuotaTimeUnit[] = ['minute', 'hour', 'day', 'week', 'month'];

class EdgeDataError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'EdgeDataError';
  }
}

/** Bootstrap `{"apiProxies":[…]}` → proxies. */
export function mapBootstrap(body: unknown, defaultMaxConnections: number): EdgeProxy[] {
  if (!isObj(body) || !Array.isArray(body.apiProxies))
    throw new EdgeDataError('bootstrap', 'expected {"apiProxies": [...]}');
  const out: EdgeProxy[] = [];
  for (const p of body.apiProxies) {
    if (!isObj(p) || typeof p.apiProxyName !== 'string') continue;
    const pe = isObj(p.proxyEndpoint) ? p.proxyEndpoint : {};
    const te = isObj(p.targetEndpoint) ? p.targetEndpoint : {};
    if (typeof pe.basePath !== 'string' || !pe.basePath) continue;
    if (typeof te.url !== 'string' || !te.url || te.url === 'null') continue;
    const timeout = Number(te.timeout);
    const maxConnections = Number(p.maxConnections);
    out.push({
      name: p.apiProxyName,
      revision: String(p.revision ?? '1'),
      proxy_name: typeof pe.name === 'string' ? pe.name : 'default',
      base_path: pe.basePath,
      target_name: typeof te.name === 'string' ? te.name : 'default',
      url: te.url,
      max_connections:
        Number.isInteger(maxConnections) && maxConnections > 0 ? maxConnections : defaultMaxConnections,
      ...(Number.isFinite(timeout) && timeout > 0 ? { timeout } : {}),
    });
  }
  return out;
}

/** Keep only the proxies named in `edgemicro.proxies` and matching `edge_config.proxyPattern`
 *  (`*` any run of characters, anchored, as edgemicro's `.*`). */
export function filterProxies(
  proxies: EdgeProxy[],
  names?: readonly string[],
  pattern?: string,
): EdgeProxy[] {
  let out = proxies;
  if (names) out = out.filter((p) => names.includes(p.name));
  if (pattern) {
    const matches = compileWildcard(pattern);
    out = out.filter((p) => matches(p.name));
  }
  return out;
}

/**
 * EDGEMICRO_DECORATOR (edgemicro's Cloud Foundry decorator / Kubernetes sidecar mode): the gateway
 * fronts one application, so when `edgemicro.proxies` keeps exactly one proxy its base path becomes
 * `/` whatever Edge says. Returns the proxies and whether the decorator took effect.
 */
export function decorate(
  proxies: EdgeProxy[],
  names: readonly string[] | undefined,
  decorator: string | undefined,
): { proxies: EdgeProxy[]; applied: boolean } {
  if (!decorator || !names || proxies.length !== 1) return { proxies, applied: false };
  return { proxies: [{ ...proxies[0]!, base_path: '/' }], applied: true };
}

function quotaOf(p: Obj): EdgeProduct['quota'] {
  const allow = Number(p.quota);
  const interval = Number(p.quotaInterval);
  const unit = p.quotaTimeUnit;
  if (!Number.isFinite(allow) || !Number.isFinite(interval) || interval <= 0) return undefined;
  if (typeof unit !== 'string' || !(TIME_UNITS as string[]).includes(unit)) return undefined;
  return { allow, interval, timeUnit: unit as QuotaTimeUnit };
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

/** Products `{"apiProduct":[…]}` → products. */
export function mapProducts(body: unknown): EdgeProduct[] {
  if (!isObj(body) || !Array.isArray(body.apiProduct))
    throw new EdgeDataError('products', 'expected {"apiProduct": [...]}');
  const out: EdgeProduct[] = [];
  for (const p of body.apiProduct) {
    if (!isObj(p) || typeof p.name !== 'string') continue;
    const quota = quotaOf(p);
    out.push({
      name: p.name,
      apiResources: strings(p.apiResources),
      proxies: strings(p.proxies),
      environments: strings(p.environments),
      scopes: strings(p.scopes),
      ...(quota ? { quota } : {}),
    });
  }
  return out;
}

/** jwkPublicKeys `{"keys":[…]}` → RSA keys. */
export function mapJwks(body: unknown): JsonWebKeyRecord[] {
  if (!isObj(body) || !Array.isArray(body.keys))
    throw new EdgeDataError('jwk_public_keys', 'expected {"keys": [...]}');
  return body.keys.filter((k): k is JsonWebKeyRecord => isObj(k) && typeof k.kty === 'string');
}

/** Products that cover at least one kept proxy, as edgemicro filters them with `edgemicro.proxies`. */
export function filterProducts(products: EdgeProduct[], proxies: readonly EdgeProxy[]): EdgeProduct[] {
  const names = new Set(proxies.map((p) => p.name));
  return products.filter((p) => p.proxies.some((n) => names.has(n)));
}
