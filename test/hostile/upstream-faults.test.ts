// Upstream faults: refused, reset before and after the head, truncated, stalled, unresolvable and
// untrusted-TLS upstreams give the client 502/504 JSON (or a cut connection once the head is out),
// leave no socket or pool connection behind, and the pool recovers when the upstream comes back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import { request } from '../helpers/client.js';
import {
  closedPort,
  eventually,
  listenerConnections,
  startEchoUpstream,
  startEngine,
  startRawUpstream,
  type EchoUpstream,
  type RawUpstream,
  type RunningEngine,
} from '../helpers/engine.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import type { GatehouseConfig } from '../../packages/core/src/config/types.js';

/** Raw upstream behaviour by path. */
function script(socket: net.Socket, head: string): void {
  const path = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '/';
  switch (path) {
    case '/reset-before-head':
      socket.resetAndDestroy();
      return;
    case '/close-before-head':
      socket.end();
      return;
    case '/reset-after-head':
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
      setTimeout(() => socket.resetAndDestroy(), 50);
      return;
    case '/truncated':
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
      return;
    case '/stall-head':
      return; // never answer
    case '/stall-body':
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
      return; // and never finish
    default:
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  }
}

let raw: RawUpstream;
let plain: EchoUpstream;
let pki: TestPki;
let tlsServer: https.Server;
let tlsPort: number;
let refusedPort: number;
let engine: RunningEngine;

function config(): GatehouseConfig {
  const proxy = (prefix: string, upstream: string) => ({
    match: { prefix },
    action: { type: 'proxy' as const, upstream },
  });
  return {
    upstreams: {
      raw: { url: raw.url, readTimeoutMs: 600 },
      refused: { url: `http://127.0.0.1:${refusedPort}` },
      dns: { url: 'http://gatehouse-test-no-such-host.invalid:8080', connectTimeoutMs: 3000 },
      tls: { url: `https://127.0.0.1:${tlsPort}` },
      tlsWrongName: {
        url: `https://127.0.0.1:${tlsPort}`,
        tls: { ca: pki.ca.certPem, name: 'not-the-right-name.test' },
      },
      // Another origin (localhost) than the two failing TLS upstreams: see the pool-key test below.
      tlsOk: { url: `https://localhost:${tlsPort}`, tls: { ca: pki.ca.certPem } },
      tlsToPlain: { url: `https://127.0.0.1:${plain.port}` },
      tlsStall: { url: `https://127.0.0.1:${raw.port}`, connectTimeoutMs: 800 },
    },
    servers: [
      {
        listen: [{ port: 0 }],
        routes: [
          proxy('/refused/', 'refused'),
          proxy('/dns/', 'dns'),
          proxy('/tls/', 'tls'),
          proxy('/tls-wrong-name/', 'tlsWrongName'),
          proxy('/tls-ok/', 'tlsOk'),
          proxy('/tls-to-plain/', 'tlsToPlain'),
          proxy('/tls-stall/', 'tlsStall'),
          proxy('/', 'raw'),
        ],
      },
    ],
  };
}

before(async () => {
  pki = createTestPki({ keyBits: 1024 });
  raw = await startRawUpstream(script);
  plain = await startEchoUpstream();
  tlsServer = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (_req, res) =>
    res.end('tls ok'),
  );
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  tlsPort = (tlsServer.address() as AddressInfo).port;
  refusedPort = await closedPort();
  engine = await startEngine(config());
});
after(async () => {
  await engine.close();
  await raw.close();
  await plain.close();
  tlsServer.closeAllConnections();
  tlsServer.close();
  pki.cleanup();
});

async function assertNoLeaks(): Promise<void> {
  const idle = await eventually(() => {
    const s = engine.gh.upstreamStats();
    return s.running === 0 && s.pending === 0;
  }, 3000);
  assert.ok(idle, `pool still busy: ${JSON.stringify(engine.gh.upstreamStats())}`);
  assert.ok(
    await eventually(async () => (await raw.connections()) === 0, 3000),
    'raw upstream connection leaked',
  );
  assert.ok(
    await eventually(async () => (await listenerConnections(engine.gh)) === 0, 3000),
    'client connection leaked',
  );
}

function assertJsonError(
  r: Awaited<ReturnType<typeof request>>,
  status: number,
  error: string | RegExp,
): void {
  assert.equal(r.status, status, `${r.status} ${r.error ?? ''} ${r.body.slice(0, 120)}`);
  assert.match(String(r.headers['content-type']), /application\/json/);
  const body = JSON.parse(r.body) as { error: string; status: number };
  if (typeof error === 'string') assert.equal(body.error, error);
  else assert.match(body.error, error);
  assert.equal(body.status, status);
}

describe('upstream faults → 502/504 JSON, nothing leaked', { timeout: 40_000 }, () => {
  test('connection refused → 502 upstream_connect_failed', async () => {
    assertJsonError(await request(engine.port, '/refused/x'), 502, 'upstream_connect_failed');
    await assertNoLeaks();
  });

  test('reset before the head → 502 upstream_reset', async () => {
    assertJsonError(await request(engine.port, '/reset-before-head'), 502, 'upstream_reset');
    await assertNoLeaks();
  });

  test('closed before the head → 502 upstream_reset', async () => {
    assertJsonError(await request(engine.port, '/close-before-head'), 502, 'upstream_reset');
    await assertNoLeaks();
  });

  test('reset after the head → the client connection is cut, never a complete response', async () => {
    const r = await request(engine.port, '/reset-after-head');
    assert.equal(r.status, 200);
    assert.equal(r.complete, false);
    await assertNoLeaks();
  });

  test('truncated body (FIN before Content-Length) → cut, never complete', async () => {
    const r = await request(engine.port, '/truncated');
    assert.equal(r.status, 200);
    assert.equal(r.complete, false);
    await assertNoLeaks();
  });

  test('stalled before the head → 504 upstream_timeout after readTimeoutMs', async () => {
    const t0 = Date.now();
    const r = await request(engine.port, '/stall-head');
    assertJsonError(r, 504, 'upstream_timeout');
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms for a 600 ms read timeout`);
    await assertNoLeaks();
  });

  test('stalled in the body → cut after readTimeoutMs', async () => {
    const r = await request(engine.port, '/stall-body', { timeoutMs: 5000 });
    assert.equal(r.status, 200);
    assert.equal(r.complete, false);
    assert.notEqual(r.error, 'client_timeout', 'the engine did not cut the stalled body');
    await assertNoLeaks();
  });

  test('50 concurrent requests to a stalled upstream → 50 × 504, then the pool is idle', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => request(engine.port, '/stall-head')));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(50).fill(504),
    );
    await assertNoLeaks();
  });

  test('DNS failure (.invalid) → 502 upstream_dns', async () => {
    assertJsonError(await request(engine.port, '/dns/x'), 502, 'upstream_dns');
    await assertNoLeaks();
  });

  test('TLS: self-signed upstream certificate not trusted → 502 upstream_tls', async () => {
    assertJsonError(await request(engine.port, '/tls/x'), 502, 'upstream_tls');
    await assertNoLeaks();
  });

  test('TLS: trusted CA but the wrong name → 502 upstream_tls', async () => {
    assertJsonError(await request(engine.port, '/tls-wrong-name/x'), 502, 'upstream_tls');
    await assertNoLeaks();
  });

  test('TLS: https to a plain-HTTP upstream → 502', async () => {
    assertJsonError(await request(engine.port, '/tls-to-plain/x'), 502, /^upstream_/);
    await assertNoLeaks();
  });

  test('TLS: an upstream that never completes the handshake → 504 after connectTimeoutMs', async () => {
    const t0 = Date.now();
    assertJsonError(await request(engine.port, '/tls-stall/x'), 504, 'upstream_timeout');
    assert.ok(Date.now() - t0 < 4000);
    await assertNoLeaks();
  });

  test('TLS: trusted CA and the right name → 200 (the failures above are not a broken set-up)', async () => {
    const r = await request(engine.port, '/tls-ok/x');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'tls ok');
  });
});

describe('pool identity', { timeout: 10_000 }, () => {
  test(
    'two upstreams on one origin with different TLS settings never share a pool (verify off must not leak to verify on)',
    {},
    async () => {
      const eng = await startEngine({
        upstreams: {
          lax: { url: `https://127.0.0.1:${tlsPort}`, tls: { verify: false } },
          strict: { url: `https://127.0.0.1:${tlsPort}`, tls: { name: 'localhost' } },
        },
        servers: [
          {
            listen: [{ port: 0 }],
            routes: [
              { match: { prefix: '/lax' }, action: { type: 'proxy', upstream: 'lax' } },
              { match: { prefix: '/strict' }, action: { type: 'proxy', upstream: 'strict' } },
            ],
          },
        ],
      });
      try {
        assert.equal((await request(eng.port, '/lax')).status, 200);
        // `strict` trusts only the default roots: the self-signed test CA must be refused.
        assertJsonError(await request(eng.port, '/strict'), 502, 'upstream_tls');
      } finally {
        await eng.close();
      }
    },
  );
});

describe('recovery', { timeout: 20_000 }, () => {
  test('the pool recovers when a refused upstream comes back, and drains when it goes again', async () => {
    const port = await closedPort();
    const eng = await startEngine({
      upstreams: { app: { url: `http://127.0.0.1:${port}`, keepAliveTimeoutMs: 60_000 } },
      servers: [
        {
          listen: [{ port: 0 }],
          routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'app' } }],
        },
      ],
    });
    try {
      for (let i = 0; i < 5; i++)
        assertJsonError(await request(eng.port, '/'), 502, 'upstream_connect_failed');
      assert.equal(eng.gh.upstreamStats().connected, 0);
      const up = await startEchoUpstream(undefined, port);
      try {
        const ok = await Promise.all(Array.from({ length: 20 }, () => request(eng.port, '/back')));
        assert.deepEqual(
          ok.map((r) => r.status),
          Array(20).fill(200),
        );
        const stats = eng.gh.upstreamStats();
        assert.equal(stats.running + stats.pending, 0);
        assert.ok(
          stats.connected <= 20 && stats.connected === (await up.connections()),
          `pool ${JSON.stringify(stats)} vs upstream sockets`,
        );
      } finally {
        await up.close();
      }
      // The upstream went away with our kept-alive connections: the pool notices and answers 502 again.
      assert.ok(
        await eventually(() => eng.gh.upstreamStats().connected === 0, 3000),
        'dead pool connections kept',
      );
      assertJsonError(await request(eng.port, '/'), 502, 'upstream_connect_failed');
    } finally {
      await eng.close();
    }
  });
});
