// Upstream failures are typed (one class per engine code, carrying the precise code) and classified
// by type; a request the engine itself cannot send (a plugin set an invalid field) is the engine's
// fault: 500 internal_error, not a 502 counted against the upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import {
  createGatehouse,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  definePlugin,
  initPlugin,
  UpstreamConnectError,
  UpstreamDnsError,
  UpstreamProtocolError,
  UpstreamResetError,
  UpstreamTimeoutError,
  UpstreamTlsError,
  type EngineError,
} from '../src/index.js';
import { classifyUpstreamError, toUpstreamError } from '../src/errors/upstream.js';
import { createLogger } from '../src/observability/logger.js';
import { request } from '../../../test/helpers/client.js';
import { startUpstream } from '../../../test/helpers/engine.js';

const quiet = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
const nodeError = (code: string, message = code) => Object.assign(new Error(message), { code });

test('foreign errors get their class once; classification reads the type', () => {
  const cases: Array<[Error & { code: string }, new (...a: never[]) => Error, string]> = [
    [
      nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'),
      UpstreamConnectError,
      'upstream_connect_failed',
    ],
    [nodeError('ENOTFOUND'), UpstreamDnsError, 'upstream_dns'],
    [
      nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      UpstreamTlsError,
      'upstream_tls',
    ],
    [nodeError('UND_ERR_HEADERS_TIMEOUT'), UpstreamTimeoutError, 'upstream_timeout'],
    [nodeError('HPE_INVALID_CONSTANT'), UpstreamProtocolError, 'upstream_invalid_response'],
    [nodeError('ECONNRESET', 'read ECONNRESET'), UpstreamResetError, 'upstream_reset'],
  ];
  for (const [err, cls, code] of cases) {
    const typed = toUpstreamError(err);
    assert.ok(typed instanceof cls, `${err.message}: ${typed.name}`);
    assert.equal(typed.cause, err);
    const p = classifyUpstreamError(err);
    assert.equal(p.code, code);
    assert.equal(p.detail, err.code);
    assert.equal(p.cause, err, 'the Node error stays the cause');
  }
  // Our own classes are classified by type, whatever their precise code says.
  const own = new UpstreamTimeoutError('UPSTREAM_HEADERS_TIMEOUT', 'upstream read timeout after 5 ms');
  assert.equal(toUpstreamError(own), own);
  assert.equal(classifyUpstreamError(own).code, 'upstream_timeout');
});

test('a field a plugin made invalid is answered 500 internal_error, not a 502 upstream error', async () => {
  const up = await startUpstream();
  const corrupt = definePlugin({
    name: 'corrupt',
    init: () => ({
      onRequest(ctx) {
        ctx.req.headers['x-injected'] = 'a\r\nx-smuggled: 1';
      },
    }),
  });
  const seen: EngineError[] = [];
  const gh = createGatehouse({
    logger: quiet,
    config: {
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0 }],
          errors: 'record',
          routes: [
            { match: { prefix: '/' }, plugins: ['corrupt'], action: { type: 'proxy', upstream: up.url } },
          ],
        },
      ],
    },
    errorRenderers: {
      record: (e) => {
        seen.push(e);
        return { status: e.status, headers: {}, body: e.code };
      },
    },
    pipeline: createPluginPipeline({
      plugins: [
        await initPlugin('corrupt', corrupt, {}, createPluginLogger(quiet, 'corrupt'), createPluginStats()),
      ],
      logger: quiet,
    }),
  });
  await gh.start();
  try {
    const reply = await request(`http://127.0.0.1:${gh.addresses()[0]!.port}/x`);
    assert.equal(reply.status, 500);
    assert.equal(reply.text, 'internal_error');
    assert.equal(up.seen.length, 0, 'nothing was sent upstream');
    assert.equal(seen[0]!.detail, 'UPSTREAM_INVALID_REQUEST');
    assert.doesNotMatch(await gh.registry.metrics(), /gatehouse_upstream_errors_total\{/);
  } finally {
    await gh.close(500);
    await up.close();
  }
});

test('an upstream that closes without answering: upstream_reset, cause "socket hang up" (ECONNRESET)', async () => {
  const closer = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
  const seen: EngineError[] = [];
  const gh = createGatehouse({
    logger: quiet,
    config: {
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0 }],
          errors: 'record',
          routes: [
            {
              match: { prefix: '/' },
              action: {
                type: 'proxy',
                upstream: `http://127.0.0.1:${(closer.address() as net.AddressInfo).port}`,
              },
            },
          ],
        },
      ],
    },
    errorRenderers: {
      record: (e) => {
        seen.push(e);
        return { status: e.status, headers: {}, body: String((e.cause as Error).message) };
      },
    },
  });
  await gh.start();
  try {
    const reply = await request(`http://127.0.0.1:${gh.addresses()[0]!.port}/x`, {
      method: 'POST',
      body: 'x',
    });
    assert.equal(reply.status, 502);
    assert.equal(reply.text, 'socket hang up');
    assert.equal(seen[0]!.code, 'upstream_reset');
    assert.equal((seen[0]!.cause as { code?: string }).code, 'ECONNRESET');
    assert.match(await gh.registry.metrics(), /gatehouse_upstream_errors_total\{kind="upstream_reset"\} 1/);
  } finally {
    await gh.close(500);
    await new Promise((r) => closer.close(r));
  }
});
