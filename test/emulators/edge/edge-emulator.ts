// An Apigee Edge control plane for tests, on 127.0.0.1: the endpoints a running edgemicro talks to
// (bootstrap, products, publicKey, jwkPublicKeys, verifyApiKey, analytics, quota), with the JSON
// shapes of reference §4, Basic key:secret checks where Edge has them, per-endpoint call counters,
// and switches for tests (take it down and up, change the proxy list, the products and the keys).
// Paths follow the real layout: `/edgemicro/<service>/organization/<org>/environment/<env>` for the
// edgemicroservices host, `/edgemicro-auth/<endpoint>` for the auth proxy; both on one listener.
import { createSign, createPublicKey, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';
import { createCertificateAuthority } from '../../../packages/core/src/tls/index.js';

/** A bootstrap entry as Edge sends it (§4.2). */
export interface BootstrapProxy {
  apiProxyName: string;
  revision: string;
  proxyEndpoint: { name: string; basePath: string };
  targetEndpoint: { name: string; url: string; timeout?: string };
  maxConnections?: number;
}

/** A product as `/edgemicro-auth/products` sends it (§4.3). */
interface ProductJson {
  name: string;
  displayName?: string;
  apiResources: string[];
  proxies: string[];
  environments: string[];
  quota?: string;
  quotaInterval?: string;
  quotaTimeUnit?: string;
  scopes?: string[];
  attributes?: Array<{ name: string; value: string }>;
  approvalType?: string;
}

/** What a known API key stands for: the claims of the token verifyApiKey signs. */
interface ApiKeyEntry {
  application_name: string;
  developer_email: string;
  api_product_list: string[];
  client_id?: string;
}

type Endpoint =
  | 'bootstrap'
  | 'products'
  | 'publicKey'
  | 'jwkPublicKeys'
  | 'verifyApiKey'
  | 'token'
  | 'analytics'
  | 'quotaVersion'
  | 'quotaApply';

export interface EdgeEmulatorOptions {
  org?: string;
  env?: string;
  key: string;
  secret: string;
  proxies?: BootstrapProxy[];
  products?: ProductJson[];
  apiKeys?: Record<string, ApiKeyEntry>;
  /** `kid` of the signing key in jwkPublicKeys and token headers. Default `1`. */
  kid?: string;
  /** Token lifetime (ms). Default 1,800,000 as edgemicro-auth. */
  tokenLifetimeMs?: number;
}

interface QuotaApplyRequest {
  identifier: string;
  weight: number;
  interval: number;
  allow: number;
  timeUnit: string;
  quotaType?: string;
}

export interface EdgeEmulator {
  readonly org: string;
  readonly env: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** The URLs an edgemicro config's `edge_config` / `oauth` / `analytics` sections name. */
  readonly urls: {
    bootstrap: string;
    products: string;
    jwt_public_key: string;
    jwk_public_keys: string;
    verify_api_key: string;
    token: string;
    analytics: string;
    quota: string;
  };
  /** Successful and refused calls per endpoint. */
  readonly calls: Record<Endpoint, number>;
  /** Calls refused for a missing or wrong Basic key:secret, per endpoint. */
  readonly unauthorized: Record<Endpoint, number>;
  /** Every analytics record posted (decoded). */
  readonly analyticsRecords: unknown[];
  /** Every quota apply request body. */
  readonly quotaRequests: QuotaApplyRequest[];
  /** PEM of the RSA key that signs tokens, and the self-signed certificate publicKey serves. */
  readonly signing: { privateKeyPem: string; certPem: string; kid: string };
  setProxies(proxies: BootstrapProxy[]): void;
  setProducts(products: ProductJson[]): void;
  setApiKey(key: string, entry: ApiKeyEntry | undefined): void;
  /** Sign a token the way edgemicro-auth does (RS256, aud microgateway); `overrides` win. */
  signToken(claims: Record<string, unknown>, overrides?: Record<string, unknown>): string;
  /** Stop listening and cut open connections (clients see ECONNREFUSED). */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A bootstrap entry in one line. */
export function bootstrapProxy(name: string, basePath: string, url: string, revision = '1'): BootstrapProxy {
  return {
    apiProxyName: name,
    revision,
    proxyEndpoint: { name: 'default', basePath },
    targetEndpoint: { name: 'default', url },
  };
}

const ENDPOINTS: Endpoint[] = [
  'bootstrap',
  'products',
  'publicKey',
  'jwkPublicKeys',
  'verifyApiKey',
  'token',
  'analytics',
  'quotaVersion',
  'quotaApply',
];
const MAX_BODY = 1024 * 1024;
const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
  month: 31 * 86_400_000,
};

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export async function startEdgeEmulator(options: EdgeEmulatorOptions): Promise<EdgeEmulator> {
  const org = options.org ?? 'myorg';
  const env = options.env ?? 'test';
  const kid = options.kid ?? '1';
  const lifetime = options.tokenLifetimeMs ?? 1_800_000;
  const ca = createCertificateAuthority({ commonName: 'edgemicro-auth', keyBits: 2048 });
  const signing = { privateKeyPem: ca.keyPem, certPem: ca.certPem, kid };
  const jwk = createPublicKey(ca.certPem).export({ format: 'jwk' }) as { n: string; e: string; kty: string };

  let proxies = [...(options.proxies ?? [])];
  let products = [...(options.products ?? [])];
  const apiKeys = new Map(Object.entries(options.apiKeys ?? {}));
  const calls = Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;
  const unauthorized = Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;
  const analyticsRecords: unknown[] = [];
  const quotaRequests: QuotaApplyRequest[] = [];
  const quotaWindows = new Map<string, { used: number; expiry: number }>();
  const expectedBasic = `Basic ${Buffer.from(`${options.key}:${options.secret}`).toString('base64')}`;
  const issuer = `http://127.0.0.1/edgemicro-auth/verifyApiKey`;

  const signToken = (claims: Record<string, unknown>, overrides: Record<string, unknown> = {}): string => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: issuer,
      aud: 'microgateway',
      iat: now,
      nbf: now,
      exp: now + Math.floor(lifetime / 1000),
      jti: randomUUID(),
      ...claims,
      ...overrides,
    };
    const head = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const body = base64url(JSON.stringify(payload));
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(signing.privateKeyPem);
    return `${head}.${body}.${base64url(sig)}`;
  };

  const svc = (name: string): string => `/edgemicro/${name}/organization/${org}/environment/${env}`;
  const routes = new Map<string, { method: string; endpoint: Endpoint; basic: boolean }>([
    [svc('bootstrap'), { method: 'GET', endpoint: 'bootstrap', basic: true }],
    [svc('axpublisher'), { method: 'POST', endpoint: 'analytics', basic: true }],
    [`${svc('quotas')}/v2/version`, { method: 'GET', endpoint: 'quotaVersion', basic: false }],
    [`${svc('quotas')}/v2/quotas/apply`, { method: 'POST', endpoint: 'quotaApply', basic: true }],
    ['/edgemicro-auth/products', { method: 'GET', endpoint: 'products', basic: true }],
    ['/edgemicro-auth/publicKey', { method: 'GET', endpoint: 'publicKey', basic: false }],
    ['/edgemicro-auth/jwkPublicKeys', { method: 'GET', endpoint: 'jwkPublicKeys', basic: false }],
    ['/edgemicro-auth/verifyApiKey', { method: 'POST', endpoint: 'verifyApiKey', basic: true }],
    ['/edgemicro-auth/token', { method: 'POST', endpoint: 'token', basic: false }],
  ]);

  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = async (req: http.IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw new Error('body too large');
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  };

  const parseJson = (buf: Buffer): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(buf.toString('utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://edge');
    const route = routes.get(url.pathname);
    if (!route) return json(res, 404, { error: 'not_found', error_description: url.pathname });
    if (req.method !== route.method)
      return json(res, 405, { error: 'method_not_allowed', error_description: req.method });
    calls[route.endpoint]++;
    if (route.basic && req.headers.authorization !== expectedBasic) {
      unauthorized[route.endpoint]++;
      await readBody(req).catch(() => undefined);
      return json(res, 401, { error: 'unauthorized', error_description: 'authentication failed' });
    }
    switch (route.endpoint) {
      case 'bootstrap':
        return json(res, 200, { apiProxies: proxies });
      case 'products': {
        const filter = url.searchParams.get('productnamefilter');
        let list = products;
        if (filter) {
          const re = new RegExp(`^${filter.split('*').map(escapeRegex).join('.*')}$`);
          list = products.filter((p) => re.test(p.name));
        }
        return json(res, 200, { apiProduct: list });
      }
      case 'publicKey':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(signing.certPem);
      case 'jwkPublicKeys':
        return json(res, 200, {
          keys: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', use: 'sig', kid }],
        });
      case 'verifyApiKey': {
        const body = parseJson(await readBody(req));
        const apiKey = typeof body?.apiKey === 'string' ? body.apiKey : undefined;
        const entry = apiKey !== undefined ? apiKeys.get(apiKey) : undefined;
        if (!apiKey || req.headers['x-dna-api-key'] !== apiKey || !entry)
          return json(res, 401, {
            fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } },
          });
        return json(res, 200, { token: signToken({ client_id: apiKey, ...entry }) });
      }
      case 'token': {
        const body = parseJson(await readBody(req));
        const id = typeof body?.client_id === 'string' ? body.client_id : '';
        const entry = apiKeys.get(id);
        if (!entry || body?.grant_type !== 'client_credentials' || typeof body.client_secret !== 'string')
          return json(res, 401, { error: 'invalid_client', error_description: 'invalid client' });
        const token = signToken({ client_id: id, ...entry });
        return json(res, 200, {
          token,
          access_token: token,
          token_type: 'Bearer',
          expires_in: Math.floor(lifetime / 1000),
        });
      }
      case 'analytics': {
        const body = parseJson(await readBody(req));
        const records = Array.isArray(body?.records) ? (body.records as unknown[]) : undefined;
        if (!records) return json(res, 400, { error: 'bad_request', error_description: 'records expected' });
        analyticsRecords.push(...records);
        return json(res, 200, { accepted: records.length, rejected: 0 });
      }
      case 'quotaVersion':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('1.1.0');
      case 'quotaApply': {
        const body = parseJson(await readBody(req)) as Partial<QuotaApplyRequest> | undefined;
        if (
          !body ||
          typeof body.identifier !== 'string' ||
          typeof body.allow !== 'number' ||
          typeof body.interval !== 'number' ||
          typeof body.timeUnit !== 'string' ||
          !(body.timeUnit in UNIT_MS)
        )
          return json(res, 400, { error: 'bad_request', error_description: 'invalid quota request' });
        quotaRequests.push(body as QuotaApplyRequest);
        const now = Date.now();
        let w = quotaWindows.get(body.identifier);
        if (!w || w.expiry <= now) {
          w = { used: 0, expiry: now + body.interval * UNIT_MS[body.timeUnit]! };
          quotaWindows.set(body.identifier, w);
        }
        w.used += typeof body.weight === 'number' ? body.weight : 1;
        return json(res, 200, {
          allowed: body.allow,
          used: w.used,
          exceeded: Math.max(0, w.used - body.allow),
          available: Math.max(0, body.allow - w.used),
          expiryTime: w.expiry,
          timestamp: now,
        });
      }
    }
  };

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 400, { error: 'bad_request', error_description: String(err) });
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  let listening = true;

  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  return {
    org,
    env,
    port,
    base,
    urls: {
      bootstrap: `${base}${svc('bootstrap')}`,
      products: `${base}/edgemicro-auth/products`,
      jwt_public_key: `${base}/edgemicro-auth/publicKey`,
      jwk_public_keys: `${base}/edgemicro-auth/jwkPublicKeys`,
      verify_api_key: `${base}/edgemicro-auth/verifyApiKey`,
      token: `${base}/edgemicro-auth/token`,
      analytics: `${base}${svc('axpublisher')}`,
      quota: `${base}${svc('quotas')}`,
    },
    calls,
    unauthorized,
    analyticsRecords,
    quotaRequests,
    signing,
    setProxies: (list) => void (proxies = [...list]),
    setProducts: (list) => void (products = [...list]),
    setApiKey: (key, entry) => void (entry ? apiKeys.set(key, entry) : apiKeys.delete(key)),
    signToken,
    down: stop,
    up: async () => {
      if (listening) return;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    },
    close: stop,
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
