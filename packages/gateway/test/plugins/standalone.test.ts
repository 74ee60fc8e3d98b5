// Standalone mode: the same oauth plugin verifies keys against the local apps and the tokens the
// local verifier signs (no Edge at all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StandaloneData } from '../../src/control-plane/types.js';
import { createLocalVerifier } from '../../src/plugins/verify/local-verifier.js';
import { decodeJwt } from '../../src/plugins/jwt/verify.js';
import { makeKeys } from './support/keys.js';
import { edgeData, pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';

const keys = makeKeys();
const data: StandaloneData = {
  ...edgeData(keys),
  apps: [
    {
      name: 'shop-app',
      developer_email: 'dev@example.com',
      products: ['shop-public'],
      credentials: [
        { key: 'local-key-canary-1' },
        { key: 'local-key-revoked-canary', status: 'revoked' },
        { key: 'local-key-expired-canary', expires_at: Date.now() - 1000 },
      ],
    },
  ],
  signing: {
    privateKeyPem: keys.privatePem,
    kid: 'k1',
    tokenLifetimeMs: 1_800_000,
    issuer: 'https://gatehouse.local/auth',
  },
};

let upstream: Upstream;
let gw: Gateway;
before(async () => {
  upstream = await startUpstream();
  gw = await startGateway(
    upstream.port,
    [{ name: 'edgemicro_shop', basePath: '/shop', plugins: ['oauth'] }],
    {
      ...pluginContext(keys, undefined, { oauth: { iss: 'https://gatehouse.local/auth' } }, 'standalone'),
      verifier: createLocalVerifier(data),
    },
  );
});
after(async () => {
  await gw.close();
  await upstream.close();
});

test('the local verifier signs edgemicro-auth-shaped tokens', async () => {
  const v = await createLocalVerifier(data).verify('local-key-canary-1');
  assert.ok(v.ok);
  const { header, claims } = decodeJwt(v.token);
  assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
  assert.equal(claims.aud, 'microgateway');
  assert.equal(claims.iss, 'https://gatehouse.local/auth');
  assert.equal(claims.application_name, 'shop-app');
  assert.deepEqual(claims.api_product_list, ['shop-public']);
  assert.equal((claims.exp as number) - (claims.iat as number), 1800);
});

test('standalone: an approved key is admitted to its product resources only', async () => {
  assert.equal((await request(gw.port, '/shop/public/a', { 'x-api-key': 'local-key-canary-1' })).status, 200);
  assert.equal(
    (await request(gw.port, '/shop/private/a', { 'x-api-key': 'local-key-canary-1' })).status,
    403,
  );
});

test('standalone: unknown, revoked and expired keys are refused', async () => {
  for (const key of ['nope', 'local-key-revoked-canary', 'local-key-expired-canary']) {
    const r = await request(gw.port, '/shop/public/a', { 'x-api-key': key });
    assert.equal(r.status, 403, key);
    assert.equal(r.body, '{"error":"access_denied","error_description":"Unauthorized"}');
  }
});
