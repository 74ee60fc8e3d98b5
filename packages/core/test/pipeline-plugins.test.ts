// Sample plugins written the edgemicro way run unmodified from a plugin directory through the real
// engine: body transformation both ways, header edits (ESM plugin), rejection, errors, early answers,
// a hook that never calls next, target overrides, and a native TypeScript plugin in the same chain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createPluginPipeline,
  definePlugin,
  initPlugin,
  loadPlugins,
  createPluginLogger,
  createPluginStats,
  type LoadedPlugin,
} from '../src/pipeline/index.js';
import {
  PLUGIN_DIR,
  request,
  silent,
  startGateway,
  startUpstream,
  type Gateway,
  type Upstream,
} from './fixtures/plugins/harness.js';

let upstream: Upstream;
let other: Upstream;
let gateway: Gateway;

// A native plugin: typed async hooks, sharing the chain with edgemicro ones.
const native = definePlugin({
  name: 'native-status',
  init: () => ({
    async onRequest(ctx) {
      if (ctx.req.headers['x-native-answer']) ctx.respond(418, { teapot: true });
      if (ctx.req.headers['x-retarget']) {
        ctx.req.targetPort = Number(ctx.req.headers['x-retarget']);
        ctx.req.targetPath = '/retargeted?by=native';
      }
    },
    async onResponse(ctx) {
      // Improvement over edgemicro: status and headers set in onresponse are honoured.
      if (ctx.req.headers['x-override-status'])
        ctx.res.statusCode = Number(ctx.req.headers['x-override-status']);
      if (ctx.targetResponse) delete ctx.targetResponse.headers['x-upstream-only'];
    },
    onResponseData: async (_ctx, chunk) =>
      String(chunk).includes('"method"') ? String(chunk).replace('"method"', '"METHOD"') : undefined,
  }),
});

// Records what a plugin placed after accumulate-request sees.
const observed: { chunks: Array<string | null>; end: string | null } = { chunks: [], end: null };
const observer = definePlugin({
  name: 'observer',
  init: () => ({
    onRequestData(_ctx, chunk) {
      observed.chunks.push(chunk === null ? null : String(chunk));
    },
    onRequestEnd(_ctx, data) {
      observed.end = data === null ? null : String(data);
    },
  }),
});

before(async () => {
  upstream = await startUpstream();
  other = await startUpstream();
  const plugins: LoadedPlugin[] = await loadPlugins({
    dir: PLUGIN_DIR,
    sequence: [
      'response-uppercase',
      'accumulate-request',
      'add-headers',
      'reject',
      'thrower',
      'answer-early',
      'stall',
    ],
    config: { 'add-headers': { tag: 'gatehouse' } },
    logger: silent,
  });
  for (const p of [native, observer])
    plugins.push(await initPlugin(p.name, p, {}, createPluginLogger(silent, p.name), createPluginStats()));
  const pipeline = createPluginPipeline({ plugins, logger: silent, hookTimeoutMs: 300 });
  gateway = await startGateway(
    upstream.port,
    [
      { prefix: '/upper/', plugins: ['response-uppercase'] },
      { prefix: '/acc/', plugins: ['accumulate-request', 'observer'] },
      { prefix: '/headers/', plugins: ['add-headers'] },
      { prefix: '/reject/', plugins: ['reject', 'add-headers'] },
      { prefix: '/fail/', plugins: ['thrower'] },
      { prefix: '/early/', plugins: ['answer-early', 'add-headers'] },
      { prefix: '/stall/', plugins: ['stall'] },
      { prefix: '/native/', plugins: ['add-headers', 'native-status'] },
      { prefix: '/plain/', plugins: [] },
      { prefix: '/onlyreq/', plugins: ['reject'] },
    ],
    pipeline,
  );
});

after(async () => {
  await gateway?.close();
  await upstream?.close();
  await other?.close();
});

test('response-uppercase (edgemicro sample) upper-cases the body chunk by chunk', async () => {
  const reply = await request(gateway.port, { path: '/upper/text' });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'HELLO WORLD');
  assert.equal(reply.headers['content-type'], 'text/plain');
  assert.equal(reply.headers['x-powered-by'], 'upstream');
});

test('response-uppercase: the target content-length is dropped because the body may change', async () => {
  const reply = await request(gateway.port, { path: '/upper/json' });
  assert.equal(reply.headers['content-length'], undefined);
  assert.equal(JSON.parse(reply.body).URL, '/UPPER/JSON');
});

test('accumulate-request: the upstream gets the whole body at once, with its length', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, {
    method: 'POST',
    path: '/acc/x',
    body: [Buffer.from('alpha-'), Buffer.from('beta-'), Buffer.from('gamma')],
  });
  assert.equal(reply.status, 200);
  const seen = upstream.seen[before]!;
  assert.equal(seen.body, 'alpha-beta-gamma');
  assert.equal(seen.headers['transfer-encoding'], undefined);
  assert.equal(seen.headers['content-length'], '16');
  // The next plugin saw every chunk dropped (next(null, null)) and the whole body at the end.
  assert.ok(observed.chunks.length >= 1);
  assert.ok(observed.chunks.every((c) => c === null));
  assert.equal(observed.end, 'alpha-beta-gamma');
});

test('add-headers (ESM): request header added and one removed upstream; onresponse header overrides the target', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, {
    path: '/headers/x',
    headers: { 'x-remove-me': '1', 'content-length': '0' },
  });
  assert.equal(reply.status, 200);
  const seen = upstream.seen[before]!;
  assert.equal(seen.headers['x-added-by'], 'gatehouse');
  assert.equal(seen.headers['x-remove-me'], undefined);
  assert.equal(reply.headers['x-powered-by'], 'gatehouse', 'onresponse wins over the target header');
  assert.equal(reply.headers['x-plugin-response'], 'yes');
  assert.equal(reply.headers['x-upstream-only'], 'kept');
  // No body hooks: the target's length is kept.
  assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.body));
});

test('reject: 401 JSON and the upstream is never called; later plugins do not run', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, { path: '/reject/x' });
  assert.equal(reply.status, 401);
  assert.deepEqual(JSON.parse(reply.body), {
    error: 'missing_authorization',
    error_description: 'Missing API Key header',
  });
  assert.equal(reply.headers['x-plugin-response'], undefined);
  assert.equal(upstream.seen.length, before);
  const ok = await request(gateway.port, { path: '/reject/x', headers: { 'x-api-key': 'k' } });
  assert.equal(ok.status, 200);
  assert.equal(upstream.seen.length, before + 1);
});

test('plugin errors become edgemicro error answers (status, JSON body, no content-type)', async () => {
  const cases: Array<[string, number, unknown]> = [
    ['throw', 500, { message: 'boom' }],
    ['next-error', 500, { message: 'boom' }],
    ['next-string', 500, 'str'],
    ['status', 403, { message: 'forbidden by plugin' }],
    ['async', 500, { message: 'late boom' }],
    ['response', 500, { message: 'response boom' }],
    ['data', 500, { message: 'data boom' }],
  ];
  for (const [mode, status, body] of cases) {
    const before = upstream.seen.length;
    const reply = await request(gateway.port, { path: '/fail/x', headers: { 'x-fail': mode } });
    assert.equal(reply.status, status, mode);
    assert.deepEqual(JSON.parse(reply.body), body, mode);
    assert.equal(reply.headers['content-type'], undefined, mode);
    assert.equal(reply.headers['x-powered-by'], undefined, `${mode}: no target headers on an error answer`);
    const reachedUpstream = mode === 'response' || mode === 'data';
    assert.equal(upstream.seen.length, before + (reachedUpstream ? 1 : 0), mode);
  }
  // The process survived all of it and the route still works.
  assert.equal((await request(gateway.port, { path: '/fail/x' })).status, 200);
});

test('answer-early: the plugin answers, the upstream gets no request', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, { path: '/early/early?probe=1' });
  assert.equal(reply.status, 200);
  assert.deepEqual(JSON.parse(reply.body), { early: true, query: { probe: '1' } });
  assert.equal(reply.headers['x-plugin-response'], undefined, 'response hooks of later plugins do not run');
  assert.equal(upstream.seen.length, before);
  assert.equal((await request(gateway.port, { path: '/early/other' })).status, 200);
  assert.equal(upstream.seen.length, before + 1);
});

test('a hook that never calls next is cut by the timeout with an error answer', async () => {
  const before = upstream.seen.length;
  const started = Date.now();
  const reply = await request(gateway.port, { path: '/stall/x' });
  assert.equal(reply.status, 504);
  assert.deepEqual(JSON.parse(reply.body), { message: 'Gateway timed out waiting for a plugin' });
  assert.ok(Date.now() - started >= 250);
  assert.equal(upstream.seen.length, before);
});

test('native plugin: onresponse status override, header deletion and chunk replacement, mixed with an ESM plugin', async () => {
  const reply = await request(gateway.port, { path: '/native/x', headers: { 'x-override-status': '202' } });
  assert.equal(reply.status, 202);
  assert.equal(reply.headers['x-upstream-only'], undefined);
  assert.equal(reply.headers['x-powered-by'], 'gatehouse');
  assert.equal(JSON.parse(reply.body).METHOD, 'GET');
});

test('native plugin: ctx.respond answers early with JSON', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, { path: '/native/x', headers: { 'x-native-answer': '1' } });
  assert.equal(reply.status, 418);
  assert.deepEqual(JSON.parse(reply.body), { teapot: true });
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.equal(upstream.seen.length, before);
});

test('req.targetPort / req.targetPath set in onrequest send the request elsewhere', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, {
    path: '/native/x',
    headers: { 'x-retarget': String(other.port) },
  });
  assert.equal(reply.status, 200);
  assert.equal(upstream.seen.length, before);
  assert.equal(other.seen.at(-1)!.url, '/retargeted?by=native');
});

test('a route naming an unknown plugin is refused, not run without it', async () => {
  // Fail closed at config time (run-time refusal: plugins-fail-closed.test.ts).
  await assert.rejects(
    startGateway(
      upstream.port,
      [{ prefix: '/missing/', plugins: ['no-such-plugin'] }],
      gateway.gh.snapshot.pipeline!,
    ),
    /routes\[0\]\.plugins\[0\]: unknown plugin "no-such-plugin"/,
  );
});

test('a route without plugins does not enter the pipeline (content-length body untouched)', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, {
    method: 'POST',
    path: '/plain/x',
    body: 'abc',
    headers: { 'content-length': '3' },
  });
  assert.equal(reply.status, 200);
  assert.equal(upstream.seen[before]!.headers['content-length'], '3');
  assert.equal(reply.headers['x-plugin-response'], undefined);
});

test('an onrequest-only chain streams the body untouched on the engine path (content-length kept)', async () => {
  const before = upstream.seen.length;
  const reply = await request(gateway.port, {
    method: 'POST',
    path: '/onlyreq/x',
    body: 'abcdef',
    headers: { 'content-length': '6', 'x-api-key': 'k' },
  });
  assert.equal(reply.status, 200);
  const seen = upstream.seen[before]!;
  assert.equal(seen.body, 'abcdef');
  assert.equal(seen.headers['content-length'], '6');
  assert.equal(seen.headers['transfer-encoding'], undefined);
  assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.body));
});
