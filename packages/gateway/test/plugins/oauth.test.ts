// oauth, apikeys and oauthv2 through the real engine on 127.0.0.1 against an Edge-like verifyApiKey
// service: every status and body of §4.9, header handling, claims, options, and the verifyApiKey
// cache (one call for 1,000 requests with one key, 50 concurrent).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { startEdgeServer, type EdgeServer } from './support/edge-server.js';
import { APPS, EDGE_KEY, EDGE_SECRET, KEY_ALL, KEY_PUBLIC, pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';

const keys = makeKeys();
let edge: EdgeServer;
let upstream: Upstream;
const gateways: Gateway[] = [];

const ROUTES = [
  { name: 'edgemicro_shop', basePath: '/shop', plugins: ['oauth'] },
  { name: 'edgemicro_keys', basePath: '/keys', plugins: ['apikeys'] },
  { name: 'edgemicro_v2', basePath: '/v2', plugins: ['oauthv2'] },
];

async function gateway(
  sections: Record<string, unknown> = {},
  verifyUrl: string | null = edge.url,
): Promise<number> {
  const g = await startGateway(upstream.port, ROUTES, pluginContext(keys, verifyUrl ?? undefined, sections));
  gateways.push(g);
  return g.port;
}

let port: number;
before(async () => {
  edge = await startEdgeServer(keys, APPS, { key: EDGE_KEY, secret: EDGE_SECRET });
  upstream = await startUpstream();
  port = await gateway({ oauth: { excludeUrls: ['/shop/open/*'] } });
});
after(async () => {
  for (const g of gateways) await g.close();
  await upstream.close();
  await edge.close();
});

const JSON_TYPE = 'application/json';
const bearer = (products: string[], extra: Record<string, unknown> = {}): string =>
  `Bearer ${signJwt(keys, claimsFor(products, extra))}`;

test('a valid API key in x-api-key → 200; upstream gets claims, keeps x-api-key', async () => {
  const r = await request(port, '/shop/public/item', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 200);
  const seen = upstream.seen.at(-1)!;
  assert.equal(seen.headers['x-api-key'], KEY_PUBLIC);
  const claims = JSON.parse(Buffer.from(String(seen.headers['x-authorization-claims']), 'base64').toString());
  assert.equal(claims.aud, 'microgateway');
  assert.equal(claims.developer_email, 'dev@example.com');
  for (const k of ['application_name', 'client_id', 'api_product_list', 'iat', 'exp'])
    assert.equal(k in claims, false);
  assert.equal(edge.lastDnaKey, KEY_PUBLIC);
  assert.equal(
    edge.lastAuthorization,
    `Basic ${Buffer.from(`${EDGE_KEY}:${EDGE_SECRET}`).toString('base64')}`,
  );
});

test('an API key in the query parameter → 200', async () => {
  const r = await request(port, `/shop/public/item?x-api-key=${KEY_PUBLIC}`);
  assert.equal(r.status, 200);
});

test('no credentials → 401 missing_authorization (the seed body)', async () => {
  const r = await request(port, '/shop/public/item');
  assert.equal(r.status, 401);
  assert.equal(
    r.body,
    '{"error":"missing_authorization","error_description":"Missing Authorization header"}',
  );
  assert.equal(r.headers['content-type'], JSON_TYPE);
});

for (const value of ['Basic dXNlcjpwYXNz', 'bearer abc', 'Bearer', 'Token abc'])
  test(`Authorization "${value}" → 400 invalid_request`, async () => {
    const r = await request(port, '/shop/public/item', { authorization: value });
    assert.equal(r.status, 400);
    assert.equal(r.body, '{"error":"invalid_request","error_description":"Invalid Authorization header"}');
  });

test('a valid Bearer JWT → 200, Authorization not forwarded', async () => {
  const r = await request(port, '/shop/public/x', { authorization: bearer(['shop-public']) });
  assert.equal(r.status, 200);
  assert.equal(upstream.seen.at(-1)!.headers.authorization, undefined);
});

test('bad, expired, foreign-key and alg-none JWTs → 401 invalid_token', async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const auth of [
    'Bearer not.a.jwt',
    bearer(['shop-all'], { exp: now - 60 }),
    `Bearer ${signJwt(makeKeys(), claimsFor(['shop-all']))}`,
    `Bearer ${signJwt(keys, claimsFor(['shop-all']), { alg: 'none' })}`,
  ]) {
    const r = await request(port, '/shop/public/x', { authorization: auth });
    assert.equal(r.status, 401, auth);
    assert.equal(r.body, '{"error":"invalid_token","error_description":"invalid_token"}');
  }
});

test('product/path mismatch → 403 access_denied', async () => {
  const r = await request(port, '/shop/private/x', { authorization: bearer(['shop-public']) });
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"error":"access_denied","error_description":"access_denied"}');
  const k = await request(port, '/shop/private/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(k.status, 403);
});

// §4.8 edge cases over the wire (base path /shop; shop-public = /public/**).
for (const [path, status] of [
  ['/shop/public/a', 200],
  ['/shop/public/a/b/c', 200],
  ['/shop/PUBLIC/a', 200],
  ['/shop/public/a/', 200],
  ['/shop/public/a?x=1', 200],
  ['/shop/public', 403],
  ['/shop/public/', 403],
  ['/shop', 403],
  ['/shop/publicity', 403],
] as const)
  test(`§4.8 over the wire: ${path} with shop-public → ${status}`, async () => {
    const r = await request(port, path, { authorization: bearer(['shop-public']) });
    assert.equal(r.status, status);
  });

test('an unknown API key → 403 access_denied with Edge status text', async () => {
  const r = await request(port, '/shop/public/x', { 'x-api-key': 'wrong-key' });
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"error":"access_denied","error_description":"Unauthorized"}');
});

test('useUpstreamResponse → Edge status and upstream_error', async () => {
  const p = await gateway({ oauth: { useUpstreamResponse: true } });
  const r = await request(p, '/shop/public/x', { 'x-api-key': 'wrong-key' });
  assert.equal(r.status, 401);
  assert.equal(r.body, '{"error":"upstream_error","error_description":"Unauthorized"}');
});

test('no verify_api_key_url → 400', async () => {
  const p = await gateway({}, null);
  const r = await request(p, '/shop/public/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 400);
  assert.equal(
    r.body,
    '{"error":"invalid_request","error_description":"API Key Verification URL not configured"}',
  );
});

test('verifyApiKey unreachable → 504 gateway_timeout; failOpen reuses nothing it never had', async () => {
  const down = await startEdgeServer(keys, APPS, { key: EDGE_KEY, secret: EDGE_SECRET });
  down.down = true;
  const p = await gateway({ oauth: { failOpen: true } }, down.url);
  const r = await request(p, '/shop/public/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 504);
  assert.equal(JSON.parse(r.body).error, 'gateway_timeout');
  await down.close();
});

test('allowAPIKeyOnly without the header → 401 invalid_authorization', async () => {
  const p = await gateway({ oauth: { allowAPIKeyOnly: true } });
  const r = await request(p, '/shop/public/x', { authorization: bearer(['shop-all']) });
  assert.equal(r.status, 401);
  assert.equal(r.body, '{"error":"invalid_authorization","error_description":"Missing API Key header"}');
  assert.equal((await request(p, '/shop/public/x', { 'x-api-key': KEY_PUBLIC })).status, 200);
});

test('allowOAuthOnly ignores API keys', async () => {
  const p = await gateway({ oauth: { allowOAuthOnly: true } });
  const r = await request(p, '/shop/public/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 401);
  assert.equal(
    r.body,
    '{"error":"missing_authorization","error_description":"Missing Authorization header"}',
  );
});

test('keep-authorization-header forwards it; custom header names are honoured', async () => {
  const p = await gateway({ oauth: { 'keep-authorization-header': true, 'api-key-header': 'X-Key' } });
  const auth = bearer(['shop-all']);
  assert.equal((await request(p, '/shop/x', { authorization: auth })).status, 200);
  assert.equal(upstream.seen.at(-1)!.headers.authorization, auth);
  assert.equal((await request(p, '/shop/x', { 'x-key': KEY_ALL })).status, 200);
  assert.equal((await request(p, `/shop/x?X-Key=${KEY_ALL}`)).status, 401);
});

test('allowNoAuthorization passes anonymous requests, with no forged claims', async () => {
  const p = await gateway({ oauth: { allowNoAuthorization: true } });
  const r = await request(p, '/shop/private/x', { 'x-authorization-claims': 'Zm9yZ2Vk' });
  assert.equal(r.status, 200);
  assert.equal(upstream.seen.at(-1)!.headers['x-authorization-claims'], undefined);
});

test('allowInvalidAuthorization passes a bad token', async () => {
  const p = await gateway({ oauth: { allowInvalidAuthorization: true } });
  assert.equal((await request(p, '/shop/x', { authorization: 'Bearer junk' })).status, 200);
});

test('excludeUrls skip the plugin for the routed path only', async () => {
  assert.equal((await request(port, '/shop/open/x')).status, 200);
  assert.equal((await request(port, '/shop/open/x/y')).status, 401);
  assert.equal((await request(port, '/shop/OPEN/x')).status, 401);
});

test('apikeys: missing key 401, header stripped, 403 without description, unknown key 403', async () => {
  let r = await request(port, '/keys/public/x');
  assert.equal(r.status, 401);
  assert.equal(r.body, '{"error":"missing_authorization","error_description":"Missing API Key header"}');
  r = await request(port, '/keys/public/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 200);
  assert.equal(upstream.seen.at(-1)!.headers['x-api-key'], undefined);
  r = await request(port, '/keys/private/x', { 'x-api-key': KEY_PUBLIC });
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"error":"access_denied"}');
  r = await request(port, '/keys/public/x', { 'x-api-key': 'nope' });
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"error":"access_denied","error_description":"Unauthorized"}');
});

test('oauthv2: JWT only', async () => {
  let r = await request(port, '/v2/public/x', { 'x-api-key': KEY_ALL });
  assert.equal(r.status, 401);
  assert.equal(
    r.body,
    '{"error":"missing_authorization","error_description":"Missing Authorization header"}',
  );
  r = await request(port, '/v2/public/x', { authorization: bearer(['shop-public']) });
  assert.equal(r.status, 200);
  r = await request(port, '/v2/other', { authorization: bearer(['shop-public']) });
  assert.equal(r.status, 403);
});

test('1,000 requests with one key, 50 concurrent → one verifyApiKey call', async () => {
  const key = 'apikey-burst-canary-a1';
  const burstEdge = await startEdgeServer(
    keys,
    { [key]: { products: ['shop-all'] } },
    { key: EDGE_KEY, secret: EDGE_SECRET },
  );
  burstEdge.delayMs = 50; // the first 50 arrive while the call is in flight
  const p = await gateway({}, burstEdge.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  let ok = 0;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < 1000) {
      sent++;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', port: p, path: '/shop/a', agent, headers: { 'x-api-key': key } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
      });
      if (status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  agent.destroy();
  assert.equal(ok, 1000);
  assert.equal(burstEdge.calls, 1);
  await burstEdge.close();
});
