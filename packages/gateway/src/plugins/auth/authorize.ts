// Product authorization (reference §4.8): a token is entitled to a request when one of its
// `api_product_list` products covers the matched proxy (unless productOnly) and has a resource
// pattern matching the normalised request path. Patterns are compiled once per poll as globs.
import type { EdgeProduct } from '../../control-plane/types.js';
import { compileGlob, type PathMatcher } from '../resource-match/glob.js';

export interface AuthorizeOptions {
  /** Skip the proxy-name check (edgemicro `productOnly`; implied in local-proxy mode). */
  readonly productOnly: boolean;
  /** Match resources with exact case instead of edgemicro's case-insensitive rule. */
  readonly exactCase: boolean;
}

interface CompiledProduct {
  readonly name: string;
  readonly proxies: ReadonlySet<string>;
  /** Resources; null: every path (no resources, or `/`). */
  readonly resources: readonly string[] | null;
}

export type Authorizer = (
  productList: unknown,
  proxyName: string,
  basePath: string,
  path: string,
) => string | undefined;

/** Build the authorizer for one poll's products. Returns the first entitled product's name. */
export function compileAuthorizer(products: readonly EdgeProduct[], options: AuthorizeOptions): Authorizer {
  const byName = new Map<string, CompiledProduct>();
  for (const p of products) {
    const everything = p.apiResources.length === 0 || p.apiResources.includes('/');
    byName.set(p.name, {
      name: p.name,
      proxies: new Set(p.proxies),
      resources: everything ? null : p.apiResources,
    });
  }
  // Patterns depend on the proxy's base path: compiled on first use per (base path, resource).
  const matchers = new Map<string, PathMatcher>();
  const matcher = (basePath: string, resource: string): PathMatcher => {
    const key = `${basePath}\n${resource}`;
    let m = matchers.get(key);
    if (!m) {
      m = compileGlob(resourcePattern(basePath, resource), { ignoreCase: !options.exactCase });
      matchers.set(key, m);
    }
    return m;
  };
  return (productList, proxyName, basePath, path) => {
    if (!Array.isArray(productList)) return undefined;
    for (const name of productList) {
      if (typeof name !== 'string') continue;
      const p = byName.get(name);
      if (!p) continue;
      if (!options.productOnly && !p.proxies.has(proxyName)) continue;
      if (p.resources === null) return p.name;
      for (const r of p.resources) if (matcher(basePath, r)(path)) return p.name;
    }
    return undefined;
  };
}

/** edgemicro: a resource already naming the base path is used as is, otherwise it is relative to it.
 *  "Names" means a whole-segment prefix here, not edgemicro's substring test. */
export function resourcePattern(basePath: string, resource: string): string {
  const base = basePath === '/' ? '' : basePath.replace(/\/+$/, '');
  const r = resource.startsWith('/') ? resource : `/${resource}`;
  if (base === '') return r;
  const lb = base.toLowerCase();
  const lr = r.toLowerCase();
  if (lr === lb || lr.startsWith(`${lb}/`)) return r;
  return base + r;
}
