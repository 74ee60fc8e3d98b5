// analytics: records with the documented fields arrive in batches, survive an outage of the sink
// and partial rejections, overflow is dropped and counted, and nothing is sent in local modes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AnalyticsUploader } from '../../src/plugins/analytics/uploader.js';
import { closeAnalytics } from '../../src/plugins/registry.js';
import { startAnalyticsSink, type AnalyticsSink } from './support/analytics-server.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { EDGE_KEY, EDGE_SECRET, edgeData, pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';

const keys = makeKeys();
let upstream: Upstream;
let sink: AnalyticsSink;
const gateways: Gateway[] = [];

before(async () => {
  upstream = await startUpstream();
  sink = await startAnalyticsSink();
});
after(async () => {
  await closeAnalytics();
  for (const g of gateways) await g.close();
  await sink.close();
  await upstream.close();
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FIELDS = [
  'client_received_start_timestamp',
  'client_received_end_timestamp',
  'recordType',
  'apiproxy',
  'request_uri',
  'request_path',
  'request_verb',
  'client_ip',
  'useragent',
  'apiproxy_revision',
  'response_status_code',
  'client_sent_start_timestamp',
  'client_sent_end_timestamp',
  'target_sent_start_timestamp',
  'target_sent_end_timestamp',
  'target_received_start_timestamp',
  'target_received_end_timestamp',
  'target_basepath',
  'target_host',
  'target_url',
  'target_response_code',
  'developer_email',
  'developer_app',
  'access_token',
  'client_id',
  'api_product',
  'gateway_flow_id',
];

test('records with the documented fields reach the analytics URI, with Basic key:secret', async () => {
  const ctx = pluginContext(keys, undefined, { analytics: { uri: sink.url, flushInterval: 50 } });
  const edge = {
    ...edgeData(keys),
    proxies: [
      {
        name: 'edgemicro_shop',
        revision: '7',
        proxy_name: 'default',
        base_path: '/shop',
        target_name: 'default',
        url: `http://127.0.0.1:${upstream.port}/`,
        max_connections: 100,
      },
    ],
  };
  const g = await startGateway(
    upstream.port,
    [{ name: 'edgemicro_shop', basePath: '/shop', plugins: ['analytics', 'oauth'] }],
    { ...ctx, edge },
  );
  gateways.push(g);
  const auth = `Bearer ${signJwt(keys, claimsFor(['shop-all']))}`;
  const r = await request(g.port, '/shop/a?x=1', {
    authorization: auth,
    'user-agent': 'test-agent',
    'x-forwarded-for': '10.1.2.3',
  });
  assert.equal(r.status, 200);
  assert.equal((await request(g.port, '/shop/a')).status, 401);
  await until(() => sink.records.length >= 2);
  const [ok, denied] = sink.records;
  for (const f of FIELDS) assert.ok(f in ok!, `missing ${f}`);
  assert.equal(ok!.recordType, 'APIAnalytics');
  assert.equal(ok!.apiproxy, 'edgemicro_shop');
  assert.equal(ok!.apiproxy_revision, '7');
  assert.equal(ok!.request_path, '/shop/a');
  assert.equal(ok!.request_verb, 'GET');
  assert.equal(ok!.client_ip, '10.1.2.3');
  assert.equal(ok!.useragent, 'test-agent');
  assert.equal(ok!.response_status_code, 200);
  assert.equal(ok!.developer_app, 'app1');
  assert.equal(ok!.api_product, 'shop-all');
  assert.equal(ok!.target_basepath, '/a?x=1');
  assert.equal(denied!.response_status_code, 401);
  assert.equal(sink.authorization, `Basic ${Buffer.from(`${EDGE_KEY}:${EDGE_SECRET}`).toString('base64')}`);
});

test('an outage of the sink loses nothing within the buffer; rejected records are retried', async () => {
  const u = new AnalyticsUploader({
    uri: sink.url,
    key: 'k',
    secret: 's',
    bufferSize: 100,
    batchSize: 4,
    flushIntervalMs: 20,
  });
  const before = sink.records.length;
  sink.failNext = 3;
  for (let i = 0; i < 10; i++) u.push({ n: i });
  await until(() => sink.records.length - before === 10);
  sink.rejectNext = 2;
  for (let i = 10; i < 14; i++) u.push({ n: i });
  await until(() => sink.records.length - before === 14);
  const got = sink.records
    .slice(before)
    .map((r) => r.n)
    .sort((a, b) => Number(a) - Number(b));
  assert.deepEqual(
    got,
    Array.from({ length: 14 }, (_, i) => i),
  );
  assert.equal(u.dropped, 0);
  u.close();
});

test('a full buffer drops and counts the overflow', async () => {
  const u = new AnalyticsUploader({
    uri: 'http://127.0.0.1:9/',
    key: 'k',
    secret: 's',
    bufferSize: 5,
    batchSize: 5,
    flushIntervalMs: 60_000,
  });
  for (let i = 0; i < 12; i++) u.push({ n: i });
  assert.equal(u.pending, 5);
  assert.equal(u.dropped, 7);
  u.close();
});

test('analytics is off in EDGEMICRO_LOCAL and standalone modes', async () => {
  for (const mode of ['local', 'standalone'] as const) {
    const posts = sink.posts;
    const ctx = pluginContext(keys, undefined, { analytics: { uri: sink.url, flushInterval: 20 } }, mode);
    const g = await startGateway(
      upstream.port,
      [{ name: 'edgemicro_shop', basePath: '/shop', plugins: ['analytics'] }],
      ctx,
    );
    gateways.push(g);
    assert.equal((await request(g.port, '/shop/a')).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.posts, posts);
  }
});
