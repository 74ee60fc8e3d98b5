// HookContext.requestHeader / setRequestHeader: native hooks read and edit the request's fields on
// the parsed field list, without node's headers object; what they set is what the upstream gets and
// what later hooks see in `req.headers`, whichever of the two forms a hook used first. Real engine,
// real upstream, raw client requests (repeated and mixed-case fields).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  definePlugin,
  initPlugin,
  type LoadedPlugin,
} from '../src/pipeline/index.js';
import {
  silent,
  startGateway,
  startUpstream,
  type Gateway,
  type Upstream,
} from './fixtures/plugins/harness.js';

let upstream: Upstream;
let gateway: Gateway;

// Edits through the field API only.
const editor = definePlugin({
  name: 'field-editor',
  init: () => ({
    onRequest(ctx) {
      ctx.setRequestHeader('x-set', `read:${ctx.requestHeader('x-read') ?? 'none'}`);
      // Any token, not only letters and `-`.
      ctx.setRequestHeader('x_under^score', `was:${ctx.requestHeader('x_under^score') ?? 'none'}`);
      ctx.setRequestHeader('x-replace', 'replaced');
      ctx.setRequestHeader('x-drop', undefined);
      if (ctx.requestHeader('x-evil') !== undefined) ctx.setRequestHeader('x-evil', 'a\r\nx-injected: 1');
    },
    onResponse(ctx) {
      // The request's fields as they were forwarded.
      ctx.res.setHeader('x-seen-set', ctx.requestHeader('x-set') ?? 'missing');
      ctx.res.setHeader('x-seen-under', ctx.requestHeader('x_under^score') ?? 'missing');
    },
  }),
});

// Reads (and so builds) node's headers object, reporting what it saw.
const objectReader = definePlugin({
  name: 'object-reader',
  init: () => ({
    onRequest(ctx) {
      const h = ctx.req.headers;
      ctx.res.setHeader('x-object-saw', `${String(h['x-set'] ?? '-')}|${String(h['x-replace'] ?? '-')}`);
    },
  }),
});

before(async () => {
  upstream = await startUpstream();
  const plugins: LoadedPlugin[] = [];
  for (const p of [editor, objectReader])
    plugins.push(await initPlugin(p.name, p, {}, createPluginLogger(silent, p.name), createPluginStats()));
  const pipeline = createPluginPipeline({ plugins, logger: silent, hookTimeoutMs: 1000 });
  gateway = await startGateway(
    upstream.port,
    [
      { prefix: '/list/', plugins: ['field-editor'] },
      { prefix: '/object-after/', plugins: ['field-editor', 'object-reader'] },
      { prefix: '/object-before/', plugins: ['object-reader', 'field-editor'] },
    ],
    pipeline,
  );
});

after(async () => {
  await gateway?.close();
  await upstream?.close();
});

interface RawReply {
  status: number;
  head: string;
}

/** One request written as raw bytes (repeated, mixed-case fields), the answer's status and head. */
function rawRequest(port: number, path: string, fields: string[]): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      data += c;
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.destroy();
      resolve({ status: Number(data.slice(9, 12)), head: data.slice(0, end).toLowerCase() });
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`);
  });
}

const CLIENT_FIELDS = [
  'X-Read: from-client',
  'X-Replace: one',
  'x-REPLACE: two',
  'X-Drop: gone',
  'X-Keep: kept',
  'X_Under^Score: odd',
];

for (const route of ['/list/', '/object-after/', '/object-before/']) {
  test(`${route}: fields set, replaced (all repeated lines, any case) and removed reach the upstream so`, async () => {
    const before = upstream.seen.length;
    const reply = await rawRequest(gateway.port, `${route}x`, CLIENT_FIELDS);
    assert.equal(reply.status, 200);
    const seen = upstream.seen[before]!.headers;
    assert.equal(seen['x-set'], 'read:from-client');
    assert.equal(seen['x-replace'], 'replaced', 'one line with the new value, not the two old ones');
    assert.equal(seen['x-drop'], undefined);
    assert.equal(seen['x-keep'], 'kept');
    assert.equal(seen['x-read'], 'from-client');
    // Names with `_` are dropped on the way upstream (nginx underscores_in_headers off); the hook saw it.
    assert.equal(seen['x_under^score'], undefined);
    assert.match(reply.head, /\r\nx-seen-under: was:odd\r\n/);
    assert.match(reply.head, /\r\nx-seen-set: read:from-client\r\n/);
  });
}

test('a hook reading req.headers after the edits sees them', async () => {
  const reply = await rawRequest(gateway.port, '/object-after/x', CLIENT_FIELDS);
  assert.match(reply.head, /\r\nx-object-saw: read:from-client\|replaced\r\n/);
});

test('a hook reading req.headers before the edits sees the client fields (repeated ones joined)', async () => {
  const reply = await rawRequest(gateway.port, '/object-before/x', CLIENT_FIELDS);
  assert.match(reply.head, /\r\nx-object-saw: -\|one, two\r\n/);
});

for (const route of ['/list/', '/object-after/']) {
  test(`${route}: a value with CR LF set by a hook is refused, not sent (no field injected upstream)`, async () => {
    const before = upstream.seen.length;
    const reply = await rawRequest(gateway.port, `${route}x`, ['X-Evil: 1']);
    assert.ok(reply.status >= 500, `status ${reply.status}`);
    assert.equal(upstream.seen.length, before, 'the upstream got no request');
  });
}
