// The edgemicro hook lifecycle through the real engine: which hooks fire for GET and POST and in what
// order across three plugins (request phase in sequence, response phase reversed), arity dispatch,
// and onclose_* when the client goes away mid-response.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createPluginPipeline, loadPlugins } from '../src/pipeline/index.js';
import {
  PLUGIN_DIR,
  request,
  silent,
  startGateway,
  startUpstream,
  until,
  type Gateway,
  type Upstream,
} from './fixtures/plugins/harness.js';

const events: string[] = [];
let upstream: Upstream;
let gateway: Gateway;

before(async () => {
  upstream = await startUpstream();
  const plugins = await loadPlugins({
    dir: PLUGIN_DIR,
    sequence: ['trace-a', 'trace-b', 'trace-c'],
    config: {
      'trace-a': { label: 'a', events },
      'trace-b': { label: 'b', events },
      'trace-c': { label: 'c', events },
    },
    logger: silent,
  });
  const pipeline = createPluginPipeline({ plugins, logger: silent });
  gateway = await startGateway(
    upstream.port,
    [{ prefix: '/trace/', plugins: ['trace-a', 'trace-b', 'trace-c'] }],
    pipeline,
  );
});

after(async () => {
  await gateway?.close();
  await upstream?.close();
});

const triple = (event: string, order: string[]): string[] => order.map((l) => `${l}:${event}`);
const forward = ['a', 'b', 'c'];
const reverse = ['c', 'b', 'a'];
const count = (e: string): number => events.filter((x) => x === e).length;

test('GET fires onrequest, onend_request, onresponse, ondata_response, onend_response — in order', async () => {
  events.length = 0;
  const reply = await request(gateway.port, { path: '/trace/get' });
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.body).url, '/trace/get');
  const chunks = count('c:ondata_response');
  assert.ok(chunks >= 1);
  assert.deepEqual(events, [
    ...triple('onrequest', forward),
    ...triple('onend_request', forward),
    ...triple('onresponse:200', reverse),
    ...Array.from({ length: chunks }, () => triple('ondata_response', reverse)).flat(),
    ...triple('onend_response', reverse),
  ]);
  assert.equal(count('a:ondata_request'), 0, 'no ondata_request for a request without a body');
});

test('POST adds ondata_request per chunk; the body reaches the upstream intact', async () => {
  events.length = 0;
  const reply = await request(gateway.port, {
    method: 'POST',
    path: '/trace/post',
    body: [Buffer.from('one,'), Buffer.from('two,'), Buffer.from('three')],
  });
  assert.equal(reply.status, 200);
  const echoed = JSON.parse(reply.body) as { body: string; headers: Record<string, string> };
  assert.equal(echoed.body, 'one,two,three');
  // Body hooks may change the size: what they produce is buffered and sent with its length.
  assert.equal(echoed.headers['transfer-encoding'], undefined);
  assert.equal(echoed.headers['content-length'], String('one,two,three'.length));
  const inChunks = count('a:ondata_request');
  const outChunks = count('c:ondata_response');
  assert.ok(inChunks >= 1 && outChunks >= 1);
  assert.deepEqual(events, [
    ...triple('onrequest', forward),
    ...Array.from({ length: inChunks }, () => triple('ondata_request', forward)).flat(),
    ...triple('onend_request', forward),
    ...triple('onresponse:200', reverse),
    ...Array.from({ length: outChunks }, () => triple('ondata_response', reverse)).flat(),
    ...triple('onend_response', reverse),
  ]);
});

test('onresponse receives the target status through the five-parameter form', async () => {
  events.length = 0;
  const reply = await request(gateway.port, { path: '/trace/status/404' });
  assert.equal(reply.status, 404);
  assert.deepEqual(
    events.filter((e) => e.includes('onresponse')),
    triple('onresponse:404', reverse),
  );
});

test('client abort mid-response fires onclose_request (sequence order) and onclose_response (reverse), and the upstream request is cut', async () => {
  events.length = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: gateway.port, path: '/trace/slow', agent: false },
      (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
    );
  });
  await until(() => count('a:onclose_response') === 1);
  await upstream.slowClosed;
  const closing = events.filter((e) => e.includes('onclose'));
  assert.deepEqual(closing, [...triple('onclose_request', forward), ...triple('onclose_response', reverse)]);
  assert.equal(count('a:onend_response'), 0);
  assert.equal(
    events.filter((e) => e.includes('onerror')).length,
    0,
    'an abort by the client is a close, not an upstream error',
  );
});

test('upstream dying mid-response fires onerror_response then onclose_response, and the client connection is cut', async () => {
  events.length = 0;
  await assert.rejects(request(gateway.port, { path: '/trace/reset' }));
  // Cutting the client connection also closes the client's request: onclose_request follows.
  await until(() => count('c:onclose_request') === 1);
  assert.deepEqual(
    events.filter((e) => e.includes('onerror') || e.includes('onclose')),
    [
      ...triple('onerror_response', reverse),
      ...triple('onclose_response', reverse),
      ...triple('onclose_request', forward),
    ],
  );
});
