// quota and spikearrest through the real engine: exactly `allow` requests per window, the
// X-RateLimit-* headers, 403/429 bodies, store down failing closed or open, spike arrest smoothing.
import { test, before, after } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import type { EdgeProduct } from '../../src/control-plane/types.js';
import { closeCounterStores } from '../../src/plugins/registry.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { edgeData, pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';
import { freePort, redisAvailable, startRedis } from './support/redis.js';

const keys = makeKeys();
let upstream: Upstream;
const gateways: Gateway[] = [];

const quotaProduct = (allow: number): EdgeProduct => ({
  name: 'shop-quota',
  apiResources: ['/**'],
  proxies: ['edgemicro_shop'],
  environments: ['test'],
  scopes: [],
  quota: { allow, interval: 1, timeUnit: 'minute' },
});

async function gateway(sections: Record<string, unknown>, plugins: string[], allow = 3): Promise<number> {
  const ctx = pluginContext(keys, undefined, sections);
  const g = await startGateway(upstream.port, [{ name: 'edgemicro_shop', basePath: '/shop', plugins }], {
    ...ctx,
    edge: { ...edgeData(keys), products: [quotaProduct(allow)] },
  });
  gateways.push(g);
  return g.port;
}

const auth = (app: string): Record<string, string> => ({
  authorization: `Bearer ${signJwt(keys, claimsFor(['shop-quota'], { application_name: app }))}`,
});

before(async () => {
  upstream = await startUpstream();
});
after(async () => {
  for (const g of gateways) await g.close();
  await closeCounterStores();
  await upstream.close();
});

test('quota: exactly `allow` requests per window, then 403 exceeded quota; headers on each', async () => {
  const p = await gateway({}, ['oauth', 'quota']);
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await request(p, '/shop/a', auth('app-403')));
  assert.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 200, 403, 403],
  );
  assert.deepEqual(
    replies.map((r) => r.headers['x-ratelimit-remaining']),
    ['2', '1', '0', '-1', '-2'],
  );
  for (const r of replies) {
    assert.equal(r.headers['x-ratelimit-limit'], '3');
    const reset = Number(r.headers['x-ratelimit-reset']);
    assert.ok(reset > 0 && reset <= 60, String(reset));
  }
  assert.equal(replies[3]!.body, '{"message":"exceeded quota","status":403}');
  assert.equal(replies[3]!.headers['content-type'], undefined);
  // Another app has its own window.
  assert.equal((await request(p, '/shop/a', auth('other-app'))).status, 200);
});

test('quota: 429 when isHTTPStatusTooManyRequestEnabled', async () => {
  const p = await gateway({ quotas: { isHTTPStatusTooManyRequestEnabled: true } }, ['oauth', 'quota'], 1);
  assert.equal((await request(p, '/shop/a', auth('app-429'))).status, 200);
  const r = await request(p, '/shop/a', auth('app-429'));
  assert.equal(r.status, 429);
  assert.equal(r.body, '{"message":"exceeded quota","status":429}');
});

test('quota: concurrent first requests are counted exactly', async () => {
  const p = await gateway({}, ['oauth', 'quota'], 10);
  const h = auth('app-burst');
  const replies = await Promise.all(Array.from({ length: 30 }, () => request(p, '/shop/a', h)));
  assert.equal(replies.filter((r) => r.status === 200).length, 10);
  assert.equal(replies.filter((r) => r.status === 403).length, 20);
});

test('quota on Redis: two gateways share one window; Redis down fails closed, or open when configured', async (t) => {
  if (!redisAvailable()) return t.skip('redis-server not installed (apt-get install redis-server)');
  const redis = await startRedis();
  try {
    const quotas = { useRedis: true, port: redis.port };
    const a = await gateway({ quotas }, ['oauth', 'quota'], 4);
    const b = await gateway({ quotas }, ['oauth', 'quota'], 4);
    const h = auth(`app-redis-${redis.port}`);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(i % 2 ? a : b, '/shop/a', h)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 403, 403]);
    await redis.stop();
    const closed = await request(a, '/shop/a', auth('app-down'));
    assert.equal(closed.status, 500);
    assert.equal(closed.body, '{"message":"quota store unavailable","status":500}');
  } finally {
    await redis.stop();
  }
});

test('quota store down with quotas.failOpen admits the request', async (t) => {
  if (!redisAvailable()) return t.skip('redis-server not installed (apt-get install redis-server)');
  const p = await gateway({ quotas: { useRedis: true, port: await freePort(), failOpen: true } }, [
    'oauth',
    'quota',
  ]);
  const r = await request(p, '/shop/a', auth('app-open'));
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-ratelimit-limit'], undefined);
});

test('quota does nothing without a token (no oauth before it) and in EDGEMICRO_LOCAL mode', async () => {
  const p = await gateway({}, ['quota'], 1);
  for (let i = 0; i < 3; i++) assert.equal((await request(p, '/shop/a', auth('app-x'))).status, 200);
});

test('spikearrest: allow 1 per second → back-to-back requests get 503 SpikeArrest engaged', async () => {
  const p = await gateway({ spikearrest: { timeUnit: 'second', allow: 1 } }, ['spikearrest']);
  const first = await request(p, '/shop/a');
  const second = await request(p, '/shop/a');
  assert.equal(first.status, 200);
  assert.equal(second.status, 503);
  assert.equal(second.body, '{"message":"SpikeArrest engaged","status":503}');
  await new Promise((r) => setTimeout(r, 1050));
  assert.equal((await request(p, '/shop/a')).status, 200);
});

test('spikearrest bufferSize: excess requests wait for their slot, beyond the buffer 503', async () => {
  await closeCounterStores(); // a fresh in-process store: no slots left from the tests above
  const p = await gateway({ spikearrest: { timeUnit: 'second', allow: 5, bufferSize: 2 } }, ['spikearrest']);
  const started = Date.now();
  const replies = await Promise.all(
    Array.from({ length: 5 }, () => request(p, '/shop/a').then((r) => ({ ...r, at: Date.now() - started }))),
  );
  const ok = replies.filter((r) => r.status === 200).sort((a, b) => a.at - b.at);
  const refused = replies.filter((r) => r.status === 503);
  assert.equal(ok.length, 3, 'one at once and two from the buffer');
  assert.equal(refused.length, 2);
  for (const r of refused) assert.equal(r.body, '{"message":"SpikeArrest engaged","status":503}');
  // Slots are 200 ms apart: the buffered ones were held, not refused or let through early.
  assert.ok(ok[1]!.at >= 190 && ok[2]!.at >= 390, `answered at ${ok.map((r) => r.at).join(', ')} ms`);
});

test('spikearrest bufferSize: a waiting request whose client goes away leaves the queue', async () => {
  await closeCounterStores();
  const p = await gateway({ spikearrest: { timeUnit: 'second', allow: 2, bufferSize: 1 } }, ['spikearrest']);
  assert.equal((await request(p, '/shop/a')).status, 200);
  const reached = upstream.seen.length;
  // The next one waits for its slot (500 ms): its client gives up after 100 ms.
  const gone = http.request({ host: '127.0.0.1', port: p, path: '/shop/a', agent: false });
  gone.on('error', () => undefined);
  gone.end();
  await new Promise((r) => setTimeout(r, 100));
  gone.destroy();
  await new Promise((r) => setTimeout(r, 50));
  // Its slot is free again, so this one is buffered (not refused: the buffer holds one) and served.
  const next = await request(p, '/shop/a');
  assert.equal(next.status, 200);
  // The one that left never reached the backend.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(upstream.seen.length, reached + 1);
});

test('spikearrest: a bad section is a config error naming the key', async () => {
  await assert.rejects(
    gateway({ spikearrest: { timeUnit: 'hour', allow: 1 } }, ['spikearrest']),
    /spikearrest\.timeUnit/,
  );
  await assert.rejects(
    gateway({ spikearrest: { timeUnit: 'second', allow: 0 } }, ['spikearrest']),
    /spikearrest\.allow/,
  );
  await assert.rejects(
    gateway({ spikearrest: { timeUnit: 'second', allow: 1, bufferSize: 1.5 } }, ['spikearrest']),
    /spikearrest\.bufferSize/,
  );
});

test('spikearrest with its store down: 503 by default, admitted with failOpen', async (t) => {
  if (!redisAvailable()) return t.skip('redis-server not installed (apt-get install redis-server)');
  const quotas = { useRedis: true, port: await freePort() };
  const closed = await gateway({ quotas, spikearrest: { timeUnit: 'second', allow: 100 } }, ['spikearrest']);
  const r = await request(closed, '/shop/a');
  assert.equal(r.status, 503);
  assert.equal(r.body, '{"message":"SpikeArrest engaged","status":503}');
  const open = await gateway({ quotas, spikearrest: { timeUnit: 'second', allow: 100, failOpen: true } }, [
    'spikearrest',
  ]);
  assert.equal((await request(open, '/shop/a')).status, 200);
});

test('spikearrest on Redis: two gateways share one rate', async (t) => {
  if (!redisAvailable()) return t.skip('redis-server not installed (apt-get install redis-server)');
  const redis = await startRedis();
  try {
    const quotas = { useRedis: true, port: redis.port };
    const spike = { timeUnit: 'minute', allow: 1 };
    const a = await gateway({ quotas, spikearrest: spike }, ['spikearrest']);
    const b = await gateway({ quotas, spikearrest: spike }, ['spikearrest']);
    const statuses = await Promise.all([a, b, a, b].map((p) => request(p, '/shop/a').then((r) => r.status)));
    assert.deepEqual(statuses.sort(), [200, 503, 503, 503]);
  } finally {
    await redis.stop();
  }
});
