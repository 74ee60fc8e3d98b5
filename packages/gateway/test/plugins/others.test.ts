// The other built-ins through the real engine, and the seed's custom `response-uppercase` plugin
// (an edgemicro plugin folder) running beside them; a built-in wins over a custom folder of its name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { BUILTIN_PLUGIN_NAMES } from '../../src/plugins/registry.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';

const keys = makeKeys();
const CUSTOM = join(import.meta.dirname, 'fixtures/custom');
let upstream: Upstream;
const gateways: Gateway[] = [];

async function gateway(plugins: string[], sections: Record<string, unknown> = {}): Promise<number> {
  const g = await startGateway(
    upstream.port,
    [{ name: 'edgemicro_shop', basePath: '/shop', plugins }],
    pluginContext(keys, undefined, sections),
    CUSTOM,
  );
  gateways.push(g);
  return g.port;
}

function post(
  port: number,
  path: string,
  body: string[],
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    let i = 0;
    const write = (): void => {
      if (i < body.length) {
        req.write(body[i++]);
        setTimeout(write, 5);
      } else req.end();
    };
    write();
  });
}

before(async () => {
  upstream = await startUpstream();
});
after(async () => {
  for (const g of gateways) await g.close();
  await upstream.close();
});

test('registry: the names of every built-in this gateway runs', () => {
  for (const n of [
    'oauth',
    'oauthv2',
    'apikeys',
    'quota',
    'spikearrest',
    'analytics',
    'cors',
    'healthcheck',
    'accumulate-request',
    'accumulate-response',
    'header-uppercase',
    'transform-uppercase',
    'accesscontrol',
    'bauth',
  ])
    assert.ok(BUILTIN_PLUGIN_NAMES.includes(n), n);
});

test("the seed's response-uppercase custom plugin runs after the built-in oauth", async () => {
  const p = await gateway(['oauth', 'response-uppercase']);
  assert.equal((await request(p, '/shop/a')).status, 401);
  const r = await request(p, '/shop/a', {
    authorization: `Bearer ${signJwt(keys, claimsFor(['shop-all']))}`,
  });
  assert.equal(r.status, 200);
  assert.match(r.body, /"URL":"\/A"/);
  // The built-in oauth, not the custom folder of the same name, ran.
  assert.equal(r.headers['x-custom-oauth-ran'], undefined);
});

test('cors: OPTIONS answered with the edgemicro headers; others get the echoed origin', async () => {
  const p = await gateway(['cors']);
  const pre = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: p,
        path: '/shop/a',
        method: 'OPTIONS',
        agent: false,
        headers: { origin: 'https://app.example' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(pre.statusCode, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET, PUT, POST, DELETE, PATCH, OPTIONS');
  assert.equal(pre.headers['access-control-allow-max-age'], '3628800');
  assert.match(String(pre.headers['access-control-allow-headers']), /x-api-key$/);
  const before = upstream.seen.length;
  const r = await request(p, '/shop/a', { origin: 'https://app.example' });
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(upstream.seen.length, before + 1);
  assert.equal((await request(p, '/shop/a')).status, 200);
});

test('healthcheck: /healthcheck is answered with process facts; other paths pass', async () => {
  const g = await startGateway(
    upstream.port,
    [{ name: 'edgemicro_root', basePath: '/', plugins: ['healthcheck'] }],
    pluginContext(keys, undefined),
  );
  gateways.push(g);
  const r = await request(g.port, '/healthcheck');
  assert.equal(r.status, 200);
  const body = JSON.parse(r.body);
  assert.equal(body.pid, process.pid);
  for (const k of ['memoryUsage', 'cpuUsage', 'uptime']) assert.ok(k in body);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.match((await request(g.port, '/other')).body, /"url":"\/other"/);
});

test('healthcheck: 503 while the event loop lags', async () => {
  const p = await gateway(['healthcheck'], {
    healthcheck: { healthcheck_url: '/shop/health', maxLagMs: 20 },
  });
  // Block the loop for a while, a few times, so the smoothed lag rises.
  for (let i = 0; i < 4; i++) {
    const end = Date.now() + 150;
    while (Date.now() < end);
    await new Promise((r) => setTimeout(r, 110));
  }
  const r = await request(p, '/shop/health');
  assert.equal(r.status, 503);
});

test('accumulate-request: the target receives the body in one piece', async () => {
  const p = await gateway(['accumulate-request', 'transform-uppercase']);
  const r = await post(p, '/shop/a', ['ab', 'cd', 'ef']);
  assert.equal(r.status, 200);
  assert.equal(upstream.seen.at(-1)!.body, 'ABCDEF');
});

test('transform-uppercase: request and response bodies upper-cased', async () => {
  const p = await gateway(['transform-uppercase']);
  const r = await post(p, '/shop/a', ['hello']);
  assert.equal(upstream.seen.at(-1)!.body, 'HELLO');
  assert.match(r.body, /"URL":"\/A"/);
});

test('accumulate-response: later hooks see the whole body', async () => {
  const p = await gateway(['response-uppercase', 'accumulate-response']);
  const r = await request(p, '/shop/abc');
  assert.match(r.body, /"URL":"\/ABC"/);
});

test('header-uppercase: request numbering reaches the target, response id reaches the client', async () => {
  const p = await gateway(['header-uppercase']);
  const r = await request(p, '/shop/a');
  assert.equal(r.status, 200);
  assert.ok(r.headers['x-foo-response-id'] !== undefined);
  assert.ok(upstream.seen.at(-1)!.headers['x-foo-request-id'] !== undefined);
});

test('accesscontrol: deny by rule order; X-Forwarded-For does not let a denied client in', async () => {
  let p = await gateway(['accesscontrol'], { accesscontrol: { deny: ['127.0.0.*'], allow: ['127.0.0.1'] } });
  let r = await request(p, '/shop/a', { 'x-forwarded-for': '10.0.0.1' });
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"code":403,"message":"Forbidden"}');
  p = await gateway(['accesscontrol'], { accesscontrol: { allow: ['127.0.0.1'], deny: ['127.0.0.*'] } });
  assert.equal((await request(p, '/shop/a')).status, 200);
  p = await gateway(['accesscontrol'], { accesscontrol: { allow: ['10.*.*.*'], noRuleMatchAction: 'deny' } });
  assert.equal((await request(p, '/shop/a', { 'x-forwarded-for': '10.0.0.1' })).status, 403);
});

test('bauth: missing 401, malformed 400, valid passes without the header', async () => {
  const p = await gateway(['bauth']);
  let r = await request(p, '/shop/a');
  assert.equal(r.status, 401);
  assert.equal(
    r.body,
    '{"error":"missing_authorization","error_description":"Missing Authorization header"}',
  );
  r = await request(p, '/shop/a', { authorization: 'Basic !!!' });
  assert.equal(r.status, 400);
  assert.equal(r.body, '{"error":"invalid_request","error_description":"Invalid Authorization header"}');
  r = await request(p, '/shop/a', { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` });
  assert.equal(r.status, 200);
  assert.equal(upstream.seen.at(-1)!.headers.authorization, undefined);
});
