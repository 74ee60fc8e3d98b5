// The Edge control-plane client (reference §4.1–§4.4): bootstrap, products, jwt_public_key and
// jwk_public_keys fetched in parallel, with Basic key:secret where Edge requires it. Errors name the
// URL without credentials and never carry the key or secret.
import { mapBootstrap, mapJwks, mapProducts } from './map-edge.js';
import type { EdgeData, EdgeProduct, EdgeProxy, JsonWebKeyRecord } from './types.js';

export interface EdgeEndpoints {
  bootstrap?: string;
  products?: string;
  jwt_public_key?: string;
  jwk_public_keys?: string;
}

export interface EdgeCredentials {
  readonly key: string;
  readonly secret: string;
}

class EdgeFetchError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`${redact(url)}: ${message}`);
    this.name = 'EdgeFetchError';
  }
}

/** The URL without userinfo or query (a query may carry a filter, never a secret, but keep logs short). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

const TIMEOUT_MS = 10_000;
const MAX_BODY = 16 * 1024 * 1024;

async function get(url: string, creds: EdgeCredentials | undefined, kind: 'json' | 'text'): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: creds
        ? { authorization: `Basic ${Buffer.from(`${creds.key}:${creds.secret}`).toString('base64')}` }
        : {},
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new EdgeFetchError(url, cause?.code ?? cause?.message ?? (err as Error).message);
  }
  const text = await res.text();
  if (text.length > MAX_BODY) throw new EdgeFetchError(url, 'response too large');
  if (res.status !== 200) throw new EdgeFetchError(url, `HTTP ${res.status}`);
  if (kind === 'text') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EdgeFetchError(url, 'response is not JSON');
  }
}

/** Download everything a poll needs, in parallel. Rejects with the first failure. */
export async function fetchEdgeData(
  endpoints: EdgeEndpoints,
  creds: EdgeCredentials,
  options: { maxConnections: number; proxies?: readonly EdgeProxy[] },
): Promise<EdgeData> {
  if (!options.proxies && !endpoints.bootstrap)
    throw new EdgeFetchError('', 'config.edge_config.bootstrap is not defined');
  if (!endpoints.jwt_public_key)
    throw new EdgeFetchError('', 'config.edge_config.jwt_public_key is not defined');
  const [proxies, products, publicKeyPem, jwks] = await Promise.all([
    options.proxies
      ? Promise.resolve([...options.proxies])
      : get(endpoints.bootstrap!, creds, 'json').then((b) => mapBootstrap(b, options.maxConnections)),
    endpoints.products
      ? get(endpoints.products, creds, 'json').then(mapProducts)
      : Promise.resolve([] as EdgeProduct[]),
    get(endpoints.jwt_public_key, undefined, 'text') as Promise<string>,
    endpoints.jwk_public_keys
      ? get(endpoints.jwk_public_keys, undefined, 'json').then(mapJwks)
      : Promise.resolve(undefined as JsonWebKeyRecord[] | undefined),
  ]);
  if (!publicKeyPem.includes('-----BEGIN'))
    throw new EdgeFetchError(endpoints.jwt_public_key, 'not a PEM certificate or public key');
  return { proxies, products, keys: { publicKeyPem, ...(jwks ? { jwks } : {}) } };
}
