// The seed's walkthrough (Edge Microgateway in Docker) end to end: the real `edgemicro start` CLI
// (master + 2 workers) against the Edge emulator, with proxy edgemicro_hello on base path /hello, a
// product and an app key. No key: 401 missing_authorization; the app's key: 200 from the target; a
// token from Edge's /token endpoint as Bearer: 200; an unknown key: 403. Analytics runs first (Edge
// mode) and what the workers buffered reaches Edge when the gateway stops.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  bootstrapProxy,
  startEdgeEmulator,
  type EdgeEmulator,
} from '../../../test/emulators/edge/edge-emulator.js';
import { runCli, startUpstream, tempDir, writeConfig, type Upstream, edgeConfigYaml } from './helpers.js';
import { closedPort } from '../../../test/helpers/engine.js';

const KEY = 'seed-edge-key-51c0a7e2';
const SECRET = 'seed-edge-secret-9b3d4f16';
const APP_KEY = 'seed-app-key-PydUKRDGIXRqF2xh';

const tmp = tempDir();
let up: Upstream;
let edge: EdgeEmulator;

before(async () => {
  up = await startUpstream('helloworld');
  edge = await startEdgeEmulator({
    key: KEY,
    secret: SECRET,
    env: 'test',
    proxies: [bootstrapProxy('edgemicro_hello', '/hello', up.url)],
    products: [
      // `/` and `/**` as the Edge UI sets them: `/**` alone does not match the base path itself.
      {
        name: 'hello-product',
        apiResources: ['/', '/**'],
        proxies: ['edgemicro_hello'],
        environments: ['test'],
      },
    ],
    apiKeys: {
      [APP_KEY]: {
        application_name: 'hello-app',
        developer_email: 'dev@example.com',
        api_product_list: ['hello-product'],
      },
    },
  });
  writeConfig(
    tmp.dir,
    edge.org,
    'test',
    edgeConfigYaml(edge.urls, [
      'edgemicro:',
      '  port: 8000',
      '  address: 127.0.0.1',
      '  logging: { level: info, to_console: true }',
      '  plugins: { sequence: [oauth] }',
      'analytics:',
      `  uri: ${edge.urls.analytics}`,
      '  flushInterval: 60000',
      'oauth:',
      '  allowNoAuthorization: false',
      '  allowInvalidAuthorization: false',
      `  verify_api_key_url: ${edge.urls.verify_api_key}`,
    ]),
  );
});
after(async () => {
  await edge.close();
  await up.close();
  tmp.cleanup();
});

test('seed walkthrough through edgemicro start against the Edge emulator', async () => {
  const port = await closedPort();
  const gw = runCli(
    ['start', '-o', edge.org, '-e', 'test', '-c', tmp.dir, '-r', String(port), '-p', '2'],
    tmp.dir,
    { EDGEMICRO_KEY: KEY, EDGEMICRO_SECRET: SECRET },
  );
  try {
    await gw.waitFor(/edgemicro started/, 60_000);
    const base = `http://127.0.0.1:${port}`;
    const call = async (headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/hello`, { headers });
      return { status: res.status, body: await res.text() };
    };

    assert.deepEqual(await call(), {
      status: 401,
      body: '{"error":"missing_authorization","error_description":"Missing Authorization header"}',
    });
    const before = up.requests;

    const ok = await call({ 'x-api-key': APP_KEY });
    assert.equal(ok.status, 200, ok.body);
    const seen = JSON.parse(ok.body) as { name: string; url: string; headers: Record<string, string> };
    assert.equal(seen.name, 'helloworld');
    // edgemicro's oauth forwards x-api-key (only apikeys removes it) and adds the claims.
    assert.equal(seen.headers['x-api-key'], APP_KEY);
    const claims = JSON.parse(Buffer.from(seen.headers['x-authorization-claims']!, 'base64').toString()) as {
      developer_email?: string;
    };
    assert.equal(claims.developer_email, 'dev@example.com');
    assert.equal(edge.calls.verifyApiKey, 1);

    const tokenRes = await fetch(edge.urls.token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: APP_KEY, client_secret: 'any' }),
    });
    assert.equal(tokenRes.status, 200);
    const { token } = (await tokenRes.json()) as { token: string };
    const bearer = await call({ authorization: `Bearer ${token}` });
    assert.equal(bearer.status, 200, bearer.body);
    const seenBearer = JSON.parse(bearer.body) as { headers: Record<string, string> };
    assert.equal(seenBearer.headers.authorization, undefined, 'the token is not passed to the target');

    assert.deepEqual(await call({ 'x-api-key': 'not-a-key-0000' }), {
      status: 403,
      body: '{"error":"access_denied","error_description":"Unauthorized"}',
    });
    assert.equal(up.requests - before, 2, 'only the two authorized calls reached the target');

    // Analytics buffers for a minute here; stopping the gateway flushes every record to Edge.
    assert.equal(edge.analyticsRecords.length, 0);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.output());
    assert.equal(edge.analyticsRecords.length, 4, 'one record per request, sent at shutdown');
    for (const s of [KEY, SECRET, APP_KEY, token])
      assert.ok(!gw.output().includes(s), 'no secret in the log');
  } finally {
    gw.child.kill('SIGKILL');
  }
});
