// microgateway-core's forwarded-header, config (headers.host), response-status-message and
// target-behaviour (504) tests, through the compat API with a real target on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MicrogatewayConfig } from '../../src/compat/index.js';
import {
  baseConfig,
  freePort,
  microgateway,
  microgatewayCjs,
  request,
  startGateway,
  startTarget,
  stopGateway,
  type Target,
} from './support.js';

async function withGateway(
  extra: Partial<MicrogatewayConfig>,
  run: (base: string, target: Target, config: MicrogatewayConfig) => Promise<void>,
  factory = microgateway,
): Promise<void> {
  const target = await startTarget();
  const port = await freePort();
  const config = baseConfig(port, target.url, extra);
  const gateway = factory(config);
  await startGateway(gateway);
  try {
    await run(`http://127.0.0.1:${port}`, target, config);
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
}

test('forwarded headers on by default: x-forwarded-for/-host/-proto, via, x-request-id upstream; x-response-time on the response', async () => {
  await withGateway({}, async (base, target, config) => {
    const r = await request(`${base}/v1/headers`);
    assert.equal(r.status, 200);
    const seen = target.seen.at(-1)!.headers;
    const port = new URL(base).port;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen.via, '1.1 127.0.0.1');
    assert.match(String(seen['x-request-id']), new RegExp(`^${config.uid}\\.\\S+$`));
    assert.match(String(r.headers['x-response-time']), /^\d+$/);
  });
});

test('forwarded headers append to what the client sent; x-forwarded-proto and x-request-id are not overwritten', async () => {
  await withGateway({}, async (base, target) => {
    await request(`${base}/v1/headers`, {
      headers: {
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'front.example',
        'x-forwarded-proto': 'https',
        via: '1.0 front',
        'x-request-id': 'client-id',
      },
    });
    const seen = target.seen.at(-1)!.headers;
    const port = new URL(base).port;
    assert.equal(seen['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(seen['x-forwarded-host'], `front.example, 127.0.0.1:${port}`);
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen.via, '1.0 front, 1.1 127.0.0.1');
    assert.equal(seen['x-request-id'], 'client-id');
  });
});

test('forwarded headers off: none is added, and no x-response-time (require() entry)', async () => {
  const headers = {
    'x-forwarded-for': false,
    'x-forwarded-host': false,
    'x-forwarded-proto': false,
    'x-request-id': false,
    'x-response-time': false,
    via: false,
  };
  await withGateway(
    { headers },
    async (base, target) => {
      const r = await request(`${base}/v1/headers`);
      assert.equal(r.status, 200);
      const seen = target.seen.at(-1)!.headers;
      for (const h of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id', 'via'])
        assert.equal(seen[h], undefined, h);
      assert.equal(r.headers['x-response-time'], undefined);
    },
    microgatewayCjs,
  );
});

test('headers.host default: the target sees its own host:port', async () => {
  await withGateway({}, async (base, target) => {
    await request(`${base}/v1/headers`);
    assert.equal(target.seen.at(-1)!.headers.host, `127.0.0.1:${target.port}`);
  });
});

test('headers.host false: the target sees the client Host', async () => {
  await withGateway({ headers: { host: false } }, async (base, target) => {
    await request(`${base}/v1/headers`);
    assert.equal(target.seen.at(-1)!.headers.host, `127.0.0.1:${new URL(base).port}`);
  });
});

test('a target custom reason phrase is preserved (with and without response hooks)', async () => {
  await withGateway({}, async (base) => {
    const r = await request(`${base}/v1/status/299/Custom%20Reason%20Here`);
    assert.equal(r.status, 299);
    assert.equal(r.statusMessage, 'Custom Reason Here');
  });
  await withGateway({ headers: { 'x-response-time': false } }, async (base) => {
    const r = await request(`${base}/v1/status/452/Very%20Custom`);
    assert.equal(r.status, 452);
    assert.equal(r.statusMessage, 'Very Custom');
  });
});

test('a target that does not answer within the proxy timeout: 504', async () => {
  const target = await startTarget();
  const port = await freePort();
  const config = baseConfig(port, target.url);
  config.proxies = [{ base_path: '/v1', url: target.url, timeout: 300 }];
  const gateway = microgateway(config);
  await startGateway(gateway);
  try {
    const started = Date.now();
    const r = await request(`http://127.0.0.1:${port}/v1/slow`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
});

test('a target that resets the connection: 502', async () => {
  await withGateway({}, async (base) => {
    const r = await request(`${base}/v1/die`);
    assert.equal(r.status, 502);
  });
});

test('config errors reach start(cb) naming the key; nothing listens', async () => {
  const port = await freePort();
  const gateway = microgateway({
    edgemicro: { port, logging: { level: 'error', to_console: true }, bogus: 1 },
    proxies: [{ url: 'http://127.0.0.1:1' }],
  });
  const err = await new Promise<Error | null>((resolve) => gateway.start((e) => resolve(e)));
  assert.ok(err);
  assert.match(err.message, /config\.edgemicro\.bogus/);
  assert.match(err.message, /config\.proxies\.0\.base_path: is not defined/);
  await stopGateway(gateway);
});

test('addPlugin checks its arguments as microgateway-core does', () => {
  const gateway = microgateway(baseConfig(1, 'http://127.0.0.1:1'));
  assert.throws(() => gateway.addPlugin('', () => ({})), /plugin must have a name/);
  assert.throws(() => gateway.addPlugin('x', 'nope' as never), /plugin must be a function/);
  assert.throws(() => gateway.addPlugin('x', () => 'nope' as never), /invalid plugin handlers x/);
  gateway.addPlugin('x', () => ({}));
  assert.throws(() => gateway.addPlugin('x', () => ({})), /already added/);
});

test("Logging is exposed on both entries and gives edgemicro's logger API", () => {
  for (const f of [microgateway, microgatewayCjs]) {
    assert.ok(f.Logging);
    const log = f.Logging.getLogger();
    for (const m of [
      'info',
      'warn',
      'error',
      'debug',
      'trace',
      'eventLog',
      'consoleLog',
      'stats',
      'setLevel',
    ] as const)
      assert.equal(typeof log[m], 'function', m);
  }
});

test('stop(cb) lets a request in flight finish, refuses new connections, then calls back', async () => {
  const target = await startTarget();
  const port = await freePort();
  const gateway = microgatewayCjs(baseConfig(port, target.url));
  const server = await startGateway(gateway);
  try {
    const inFlight = request(`http://127.0.0.1:${port}/v1/delay/400`);
    while (target.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    let stopped = false;
    const stopping = stopGateway(gateway).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(stopped, false);
    await assert.rejects(request(`http://127.0.0.1:${port}/v1/echo/get`));
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { delayed: 400 });
    await stopping;
    assert.equal(server.listening, false);
  } finally {
    await target.close();
  }
});

test('a port in use reaches start(cb) as the listen error', async () => {
  const target = await startTarget();
  const port = await freePort();
  const first = microgateway(baseConfig(port, target.url));
  await startGateway(first);
  try {
    const second = microgateway(baseConfig(port, target.url));
    const err = await new Promise<Error | null>((resolve) => second.start((e) => resolve(e)));
    assert.equal((err as NodeJS.ErrnoException | null)?.code, 'EADDRINUSE');
    await stopGateway(second);
    const r = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(r.status, 200);
  } finally {
    await stopGateway(first);
    await target.close();
  }
});
