// microgateway-core's plugin-lifecycle-tests, through the compat API with a real target on loopback:
// the hook sets fired for POST/GET/PUT, echo equality, a plugin ending the response, a plugin error,
// a plugin throw, and the target gone (502 after onerror_request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgemicroHandlers, Next } from '@gatehouse/core';
import {
  BODY_MAP,
  baseConfig,
  freePort,
  microgateway,
  microgatewayCjs,
  requestJson,
  startGateway,
  startTarget,
  stopGateway,
  type Target,
} from './support.js';

type Req = Parameters<Extract<EdgemicroHandlers['onrequest'], (a: never, b: never, c: never) => void>>[0];

/** A plugin recording which handlers ran (data passed through unchanged), like microgateway-core's TestPlugin. */
function recorder(types: Set<string>): Record<string, (...args: never[]) => void> {
  const pass3 = (name: string) => (_req: Req, _res: unknown, next: Next) => {
    types.add(name);
    next();
  };
  const pass4 = (name: string) => (_req: Req, _res: unknown, data: Buffer | string | null, next: Next) => {
    types.add(name);
    next(null, data);
  };
  return {
    onrequest: pass3('onrequest'),
    ondata_request: pass4('ondata_request'),
    onend_request: pass4('onend_request'),
    onerror_request: pass4('onerror_request'),
    onresponse: pass3('onresponse'),
    ondata_response: pass4('ondata_response'),
    onend_response: pass4('onend_response'),
    onerror_response: pass4('onerror_response'),
  };
}

async function withGateway(
  factory: typeof microgateway,
  handlers: Record<string, unknown>,
  run: (base: string, target: Target) => Promise<void>,
  options: { targetDown?: boolean } = {},
): Promise<void> {
  const target = await startTarget();
  if (options.targetDown) await target.close();
  const port = await freePort();
  const gateway = factory(baseConfig(port, target.url));
  gateway.addPlugin('test', () => handlers as EdgemicroHandlers);
  const server = await startGateway(gateway);
  assert.equal(server.address().port, port);
  try {
    await run(`http://127.0.0.1:${port}`, target);
  } finally {
    await stopGateway(gateway);
    if (!options.targetDown) await target.close();
  }
}

const ALL = [
  'onrequest',
  'ondata_request',
  'onend_request',
  'onresponse',
  'ondata_response',
  'onend_response',
];

test('POST: every request and response handler runs; the echo comes back equal (require() entry)', async () => {
  const types = new Set<string>();
  await withGateway(microgatewayCjs, recorder(types), async (base) => {
    const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { post: BODY_MAP.post, body: { test: '123' } });
    assert.deepEqual([...types].sort(), [...ALL].sort());
  });
});

test('GET: no ondata_request, the rest runs; echo equal (import entry)', async () => {
  const types = new Set<string>();
  await withGateway(microgateway, recorder(types), async (base) => {
    const r = await requestJson('GET', `${base}/v1/echo/get`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { get: BODY_MAP.get });
    assert.deepEqual([...types].sort(), ALL.filter((t) => t !== 'ondata_request').sort());
  });
});

test('PUT: every request and response handler runs; echo equal', async () => {
  const types = new Set<string>();
  await withGateway(microgateway, recorder(types), async (base) => {
    const r = await requestJson('PUT', `${base}/v1/echo/put`, { test: '1234' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { put: BODY_MAP.put, body: { test: '1234' } });
    assert.deepEqual([...types].sort(), [...ALL].sort());
  });
});

test('a plugin ending the response in onresponse: its status, header and body reach the client', async () => {
  const types = new Set<string>();
  const handlers = recorder(types);
  handlers.onresponse = ((_req: Req, res: import('node:http').ServerResponse, _data: null, next: Next) => {
    types.add('onresponse');
    res.setHeader('x-onresponse-visited', 'true');
    res.statusCode = 266;
    res.end(JSON.stringify({ post: { post: 'posttested' }, body: { test: '123modified' } }));
    next(true);
  }) as never;
  await withGateway(microgateway, handlers, async (base) => {
    const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
    assert.equal(r.status, 266);
    assert.equal(r.headers['x-onresponse-visited'], 'true');
    assert.deepEqual(JSON.parse(r.body), { post: { post: 'posttested' }, body: { test: '123modified' } });
    assert.deepEqual([...types].sort(), ['ondata_request', 'onend_request', 'onrequest', 'onresponse']);
  });
});

test('a plugin throwing in onresponse: 500 {"message": ...}, later handlers do not run', async () => {
  const types = new Set<string>();
  const handlers = recorder(types);
  handlers.onresponse = ((_req: Req, res: import('node:http').ServerResponse) => {
    types.add('onresponse');
    res.setHeader('x-onresponse-visited', 'true');
    throw new Error('test is barked');
  }) as never;
  // Arity 4 as in microgateway-core's test (the handler never calls next; it throws).
  Object.defineProperty(handlers.onresponse, 'length', { value: 4 });
  await withGateway(microgateway, handlers, async (base) => {
    const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), { message: 'test is barked' });
    assert.deepEqual([...types].sort(), ['ondata_request', 'onend_request', 'onrequest', 'onresponse']);
  });
});

test('a plugin calling next(err) in onresponse: 500 {"message": ...}', async () => {
  const types = new Set<string>();
  const handlers = recorder(types);
  handlers.onresponse = ((_req: Req, _res: unknown, _data: null, next: Next) => {
    types.add('onresponse');
    next(new Error('test is borked'));
  }) as never;
  await withGateway(microgateway, handlers, async (base) => {
    const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), { message: 'test is borked' });
    assert.deepEqual([...types].sort(), ['ondata_request', 'onend_request', 'onrequest', 'onresponse']);
  });
});

test('the target gone: onerror_request runs and the client gets 502', async () => {
  const types = new Set<string>();
  await withGateway(
    microgateway,
    recorder(types),
    async (base) => {
      const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
      assert.equal(r.status, 502);
      assert.ok(types.has('onerror_request'), [...types].join(','));
      assert.ok(types.has('onrequest'));
      assert.ok(!types.has('onresponse'));
    },
    { targetDown: true },
  );
});

test('the target gone: the 502 body is edgemicro\'s ({"code":"ECONNREFUSED", ...})', async () => {
  await withGateway(
    microgateway,
    {},
    async (base) => {
      const r = await requestJson('POST', `${base}/v1/echo/post`, { test: '123' });
      assert.equal(r.status, 502);
      assert.equal(JSON.parse(r.body).code, 'ECONNREFUSED');
    },
    { targetDown: true },
  );
});
