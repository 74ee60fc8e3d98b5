// The Edge emulator speaks §4's shapes and checks Basic key:secret where Edge does.
import assert from 'node:assert/strict';
import { createVerify, X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { bootstrapProxy, startEdgeEmulator, type EdgeEmulator } from './edge-emulator.js';

let edge: EdgeEmulator;
const basic = `Basic ${Buffer.from('k1:s1').toString('base64')}`;

before(async () => {
  edge = await startEdgeEmulator({
    key: 'k1',
    secret: 's1',
    proxies: [bootstrapProxy('edgemicro_hello', '/hello', 'http://127.0.0.1:9/')],
    products: [{ name: 'P', apiResources: ['/**'], proxies: ['edgemicro_hello'], environments: ['test'] }],
    apiKeys: { goodkey: { application_name: 'app', developer_email: 'd@x', api_product_list: ['P'] } },
  });
});
after(() => edge.close());

test('bootstrap and products need Basic key:secret', async () => {
  assert.equal((await fetch(edge.urls.bootstrap)).status, 401);
  const res = await fetch(edge.urls.bootstrap, { headers: { authorization: basic } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { apiProxies: Array<{ apiProxyName: string }> };
  assert.equal(body.apiProxies[0]!.apiProxyName, 'edgemicro_hello');
  const p = (await (await fetch(edge.urls.products, { headers: { authorization: basic } })).json()) as {
    apiProduct: Array<{ name: string }>;
  };
  assert.deepEqual(
    p.apiProduct.map((x) => x.name),
    ['P'],
  );
  assert.equal(edge.unauthorized.bootstrap, 1);
  assert.equal(edge.calls.bootstrap, 2);
});

test('publicKey is a PEM certificate; verifyApiKey signs a JWT it verifies', async () => {
  const pem = await (await fetch(edge.urls.jwt_public_key)).text();
  const cert = new X509Certificate(pem);
  const bad = await fetch(edge.urls.verify_api_key, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json', 'x-dna-api-key': 'nope' },
    body: JSON.stringify({ apiKey: 'nope' }),
  });
  assert.equal(bad.status, 401);
  const ok = await fetch(edge.urls.verify_api_key, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json', 'x-dna-api-key': 'goodkey' },
    body: JSON.stringify({ apiKey: 'goodkey' }),
  });
  assert.equal(ok.status, 200);
  const { token } = (await ok.json()) as { token: string };
  const [h, p, s] = token.split('.') as [string, string, string];
  assert.ok(
    createVerify('RSA-SHA256').update(`${h}.${p}`).verify(cert.publicKey, Buffer.from(s, 'base64url')),
  );
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims.aud, 'microgateway');
  assert.deepEqual(claims.api_product_list, ['P']);
  const jwks = (await (await fetch(edge.urls.jwk_public_keys)).json()) as { keys: Array<{ kid: string }> };
  assert.equal(jwks.keys[0]!.kid, '1');
});

test('quota apply counts per identifier; analytics captured; down refuses connections', async () => {
  const apply = () =>
    fetch(`${edge.urls.quota}/v2/quotas/apply`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'o.e.a.P', weight: 1, interval: 1, allow: 1, timeUnit: 'minute' }),
    }).then((r) => r.json() as Promise<{ used: number; exceeded: number }>);
  assert.equal((await apply()).exceeded, 0);
  const second = await apply();
  assert.equal(second.used, 2);
  assert.equal(second.exceeded, 1);
  const ax = await fetch(edge.urls.analytics, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify({ records: [{ apiproxy: 'edgemicro_hello' }] }),
  });
  assert.equal(ax.status, 200);
  assert.equal(edge.analyticsRecords.length, 1);
  await edge.down();
  await assert.rejects(fetch(edge.urls.jwt_public_key));
  await edge.up();
  assert.equal((await fetch(edge.urls.jwt_public_key)).status, 200);
});
