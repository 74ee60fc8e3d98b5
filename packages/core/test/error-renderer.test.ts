// The error-renderer slot: every error the engine writes goes through the renderer chosen for the
// server or route; renderers are registered by name when the engine is created, and a config naming
// one the engine does not have is refused (at creation and at reload, naming the key path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import {
  ConfigError,
  createGatehouse,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  definePlugin,
  initPlugin,
  type EngineError,
  type ErrorRenderer,
  type GatehouseConfig,
  type RenderedError,
} from '../src/index.js';
import { createLogger } from '../src/observability/logger.js';
import { rawText } from '../../../test/helpers/raw-http.js';
import { request } from '../../../test/helpers/client.js';
import { startUpstream } from '../../../test/helpers/engine.js';

const quiet = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));

/** edgemicro-like bodies; records what it was given. */
function edgeRenderer(seen: EngineError[]): ErrorRenderer {
  return (e): RenderedError => {
    seen.push(e);
    if (e.code === 'not_found')
      return {
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'no match found', status: 404 }),
      };
    const cause = e.cause as { message?: string; code?: string } | undefined;
    return {
      status: e.status,
      headers: { 'content-type': 'application/json', 'x-renderer': 'edge' },
      body: JSON.stringify({ message: cause?.message ?? e.message, code: cause?.code ?? e.code }),
    };
  };
}

function config(
  extra: Partial<GatehouseConfig['servers'][number]>,
  upstream: string,
  plugins = false,
): GatehouseConfig {
  return {
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0 }],
        limits: { maxHeaderSize: 1024 },
        routes: [
          { match: { prefix: '/up/' }, action: { type: 'proxy', upstream } },
          { match: { prefix: '/dead/' }, action: { type: 'proxy', upstream: 'http://127.0.0.1:9' } },
          {
            match: { prefix: '/json/' },
            errors: 'json',
            action: { type: 'proxy', upstream: 'http://127.0.0.1:9' },
          },
          ...(plugins
            ? [
                {
                  match: { prefix: '/plug/' },
                  plugins: ['failer'],
                  action: { type: 'proxy' as const, upstream },
                },
              ]
            : []),
        ],
        ...extra,
      },
    ],
  };
}

test('the chosen renderer writes every engine error; a route may choose another', async () => {
  const up = await startUpstream();
  const seen: EngineError[] = [];
  const failer = definePlugin({
    name: 'failer',
    init: () => ({
      onRequest() {
        throw Object.assign(new Error('invalid api key'), { code: 'bad_key' });
      },
    }),
  });
  const gh = createGatehouse({
    config: config({ errors: 'edgemicro' }, up.url, true),
    logger: quiet,
    errorRenderers: { edgemicro: edgeRenderer(seen) },
    pipeline: createPluginPipeline({
      plugins: [
        await initPlugin('failer', failer, {}, createPluginLogger(quiet, 'failer'), createPluginStats()),
      ],
      logger: quiet,
    }),
  });
  await gh.start();
  const port = gh.addresses()[0]!.port;
  const base = `http://127.0.0.1:${port}`;
  try {
    // No route.
    const nf = await request(`${base}/nowhere`);
    assert.equal(nf.status, 404);
    assert.equal(nf.text, '{"message":"no match found","status":404}');
    assert.equal(nf.headers['content-type'], 'application/json');
    assert.equal(nf.headers['content-length'], String(nf.body.length), 'the engine adds content-length');

    // Upstream refused: the renderer sees the Node error as the cause.
    const refused = await request(`${base}/dead/x`);
    assert.equal(refused.status, 502);
    assert.equal(refused.headers['x-renderer'], 'edge');
    const body = JSON.parse(refused.text) as { message: string; code: string };
    assert.equal(body.code, 'ECONNREFUSED');
    assert.match(body.message, /ECONNREFUSED 127\.0\.0\.1:9/);
    const e = seen.find((x) => x.code === 'upstream_connect_failed');
    assert.ok(e, 'renderer saw upstream_connect_failed');
    assert.equal(e.status, 502);
    assert.equal(e.message, 'could not connect to the upstream');
    assert.equal((e.cause as { syscall?: string }).syscall, 'connect');

    // The route that chose `json` keeps the engine's own format.
    const json = await request(`${base}/json/x`);
    assert.equal(json.status, 502);
    assert.equal(JSON.parse(json.text).error, 'upstream_connect_failed');
    assert.equal(json.headers['x-renderer'], undefined);

    // A plugin error: the renderer gets what the plugin threw.
    const before = up.seen.length;
    const pe = await request(`${base}/plug/x`);
    assert.equal(pe.status, 500);
    assert.deepEqual(JSON.parse(pe.text), { message: 'invalid api key', code: 'bad_key' });
    assert.equal(up.seen.length, before, 'the plugin error never reached the upstream');
    const pluginError = seen.find((x) => x.code === 'plugin_error');
    assert.equal((pluginError?.cause as Error).message, 'invalid api key');

    // Errors before routing (raw head refused by the connection) use the listener's default server.
    const raw = await rawText(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.match(raw, /x-renderer: edge\r\n/);
    assert.match(raw, /connection: close\r\n/);
    assert.match(raw, /"code":"header_too_large"/);
    const dup = await rawText(port, 'GET /up/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    assert.match(dup, /^HTTP\/1\.1 400 /);
    assert.match(dup, /"code":"duplicate_host"/);
  } finally {
    await gh.close(500);
    await up.close();
  }
});

test('the built-in json renderer is the default and keeps today’s bodies', async () => {
  const gh = createGatehouse({ config: config({}, 'http://127.0.0.1:9'), logger: quiet });
  await gh.start();
  const base = `http://127.0.0.1:${gh.addresses()[0]!.port}`;
  try {
    const nf = await request(`${base}/nowhere`);
    assert.equal(nf.status, 404);
    assert.deepEqual(JSON.parse(nf.text), {
      error: 'not_found',
      message: 'no route matches this request',
      status: 404,
    });
    assert.equal(nf.headers['content-type'], 'application/json');
  } finally {
    await gh.close(500);
  }
});

test('a renderer that throws or returns an unsendable answer falls back to json', async () => {
  const renderers: Record<string, ErrorRenderer> = {
    throws: () => {
      throw new Error('renderer bug');
    },
    bad: () => ({ status: 404, headers: { 'x-bad': 'a\r\nx-injected: 1' }, body: 'x' }),
  };
  for (const name of Object.keys(renderers)) {
    const gh = createGatehouse({
      config: config({ errors: name }, 'http://127.0.0.1:9'),
      logger: quiet,
      errorRenderers: renderers,
    });
    await gh.start();
    try {
      const nf = await request(`http://127.0.0.1:${gh.addresses()[0]!.port}/nowhere`);
      assert.equal(nf.status, 404, name);
      assert.equal(JSON.parse(nf.text).error, 'not_found', name);
      assert.equal(nf.headers['x-injected'], undefined, name);
    } finally {
      await gh.close(500);
    }
  }
});

test('a config naming an unknown renderer is refused at creation and at reload', async () => {
  const bad = config({ errors: 'edgemicro' }, 'http://127.0.0.1:9');
  assert.throws(
    () => createGatehouse({ config: bad, logger: quiet }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /servers\[0\]\.errors: unknown error renderer "edgemicro"/.test(err.message),
  );
  const routeBad = config({}, 'http://127.0.0.1:9');
  routeBad.servers[0]!.routes[0]!.errors = 'nope';
  const gh = createGatehouse({
    config: config({}, 'http://127.0.0.1:9'),
    logger: quiet,
    errorRenderers: { edgemicro: edgeRenderer([]) },
  });
  await gh.start();
  try {
    await assert.rejects(
      gh.reload(routeBad),
      /servers\[0\]\.routes\[0\]\.errors: unknown error renderer "nope"/,
    );
    // The running config keeps serving; a reload choosing a registered renderer takes effect.
    const base = `http://127.0.0.1:${gh.addresses()[0]!.port}`;
    assert.equal(JSON.parse((await request(`${base}/nowhere`)).text).error, 'not_found');
    const good = config({ errors: 'edgemicro' }, 'http://127.0.0.1:9');
    good.servers[0]!.listen = [{ address: '127.0.0.1', port: gh.addresses()[0]!.port }];
    await gh.reload(good);
    assert.equal((await request(`${base}/nowhere`)).text, '{"message":"no match found","status":404}');
  } finally {
    await gh.close(500);
  }
});
