// Upstream responses with framing defects are never relayed as they are: a defect in the head gives
// the client a 502 JSON error, a defect in the body (after the head went out) cuts the client
// connection so the response cannot look complete. The desynchronised upstream connection is not
// reused. nginx 1.22's answers to the same bytes are checked when it is installed (README.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { request } from '../helpers/client.js';
import {
  eventually,
  proxyConfig,
  startEngine,
  startRawUpstream,
  type RawUpstream,
  type RunningEngine,
} from '../helpers/engine.js';
import { nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx-oracle.js';
import { RESPONSE_VECTORS } from './response-vectors.js';

const GOOD = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood';

/** Answer by path: `/v/<i>` plays vector i, `/extra` sends an unsolicited second response, else a good one. */
function script(socket: net.Socket, head: string): void {
  const path = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '/';
  const m = /^\/v\/(\d+)$/.exec(path);
  if (m) {
    const v = RESPONSE_VECTORS[Number(m[1])]!;
    socket.write(v.bytes);
    if (v.then === 'end') socket.end();
    else if (v.then === 'destroy') socket.resetAndDestroy();
    return;
  }
  if (path === '/extra') {
    socket.write(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nWRONG!',
    );
    return;
  }
  socket.write(GOOD);
  socket.end();
}

let upstream: RawUpstream;
let engine: RunningEngine;

before(async () => {
  upstream = await startRawUpstream(script);
  engine = await startEngine(proxyConfig(upstream.url, {}, [], { readTimeoutMs: 1500 }));
});
after(async () => {
  await engine.close();
  await upstream.close();
});

describe('defective upstream responses through the engine', { timeout: 40_000 }, () => {
  RESPONSE_VECTORS.forEach((v, i) => {
    test(`${v.name}: ${v.when === 'head' ? '502 JSON' : 'client connection cut'}`, async () => {
      const r = await request(engine.port, `/v/${i}`, { timeoutMs: 5000 });
      if (v.when === 'head') {
        assert.equal(r.status, 502, `status ${r.status} ${r.error ?? ''} ${r.body.slice(0, 80)}`);
        assert.equal(r.complete, true);
        assert.match(String(r.headers['content-type']), /application\/json/);
        const body = JSON.parse(r.body) as { error: string };
        assert.match(body.error, /^upstream_(invalid_response|reset)$/);
      } else {
        assert.equal(r.status, 200, 'the valid head is relayed');
        assert.equal(r.complete, false, `a cut body looked complete: ${JSON.stringify(r.body)}`);
        assert.ok(r.error, 'the client saw the connection cut');
      }
      // The upstream connection that carried the defect is closed, not kept in the pool.
      assert.ok(
        await eventually(async () => (await upstream.connections()) === 0, 3000),
        'upstream connection left open',
      );
      assert.ok(
        await eventually(
          () => engine.gh.upstreamStats().running === 0 && engine.gh.upstreamStats().pending === 0,
          3000,
        ),
      );
      // And the pool serves the next request normally.
      const ok = await request(engine.port, '/ok');
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'good');
    });
  });

  test('an unsolicited second response after a complete one never reaches another client', async () => {
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(engine.port, '/extra', { agent });
      assert.equal(first.status, 200);
      assert.equal(first.body, 'hello');
      for (let i = 0; i < 3; i++) {
        const next = await request(engine.port, '/ok', { agent });
        assert.equal(next.status, 200);
        assert.equal(next.body, 'good', 'a later request received the smuggled response');
      }
    } finally {
      agent.destroy();
    }
  });
});

describe(
  'nginx 1.22 relays the same responses as documented (oracle)',
  { skip: !nginxAvailable() && 'nginx not installed', timeout: 60_000 },
  () => {
    let nginx: RunningNginx;
    before(async () => {
      nginx = await startNginx(`location / { proxy_pass ${upstream.url}; proxy_read_timeout 2s; }`);
    });
    after(async () => {
      await nginx?.close();
    });
    RESPONSE_VECTORS.forEach((v, i) => {
      test(`nginx: ${v.name} → ${v.nginx.status ?? 'no response'}${v.nginx.complete ? '' : ' (cut)'}`, async () => {
        const r = await request(nginx.port, `/v/${i}`, { timeoutMs: 5000 });
        assert.equal(r.status, v.nginx.status, `${r.error ?? ''} ${JSON.stringify(r.body.slice(0, 60))}`);
        assert.equal(r.complete, v.nginx.complete);
      });
    });
  },
);
