// Limits and slow clients: oversized heads and bodies are refused early, slowloris and slow bodies
// are cut by the header/request timeouts, idle connections are capped, and a normal client is
// still served while all of that happens. Timeouts are configured short so the file runs in seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { closedWithin, connectIdle, rawRequest, trickle } from '../helpers/raw-http.js';
import { request } from '../helpers/client.js';
import {
  eventually,
  listenerConnections,
  proxyConfig,
  startEchoUpstream,
  startEngine,
  type EchoUpstream,
  type RunningEngine,
} from '../helpers/engine.js';

const LIMITS = {
  maxHeaderSize: 4096,
  maxBodySize: 1024,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 2000,
  keepAliveTimeoutMs: 1000,
  maxConnections: 400,
};

let upstream: EchoUpstream;
let engine: RunningEngine;

before(async () => {
  upstream = await startEchoUpstream();
  engine = await startEngine(proxyConfig(upstream.url, LIMITS));
});
after(async () => {
  await engine.close();
  await upstream.close();
});

describe('size limits', { timeout: 20_000 }, () => {
  test('a request head over maxHeaderSize → 431 JSON, connection closed, nothing forwarded', async () => {
    upstream.requests.length = 0;
    const r = await rawRequest(
      engine.port,
      `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
    );
    assert.equal(r.status, 431);
    assert.match(r.headers['content-type'] ?? '', /json/);
    assert.equal((JSON.parse(r.body) as { error: string }).error, 'header_too_large');
    assert.equal(r.closed, true);
    assert.equal(upstream.requests.length, 0);
  });

  test('a head under the limit passes', async () => {
    const r = await request(engine.port, '/', { headers: { 'x-big': 'a'.repeat(3000) } });
    assert.equal(r.status, 200);
  });

  test('Content-Length over maxBodySize → 413 at once, before any body byte is sent', async () => {
    upstream.requests.length = 0;
    const started = Date.now();
    // Only the head: the engine must answer from Content-Length alone.
    const r = await rawRequest(
      engine.port,
      `POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 104857600\r\n\r\n`,
      { timeoutMs: 3000 },
    );
    assert.equal(r.status, 413);
    assert.equal((JSON.parse(r.body) as { error: string }).error, 'payload_too_large');
    assert.ok(Date.now() - started < 1500, 'answered without waiting for the body');
    assert.equal(r.closed, true);
    assert.equal(upstream.requests.length, 0);
  });

  test('a chunked body over maxBodySize → 413 and the connection closed while the client is still sending', async () => {
    upstream.requests.length = 0;
    const socket = net.connect({ host: '127.0.0.1', port: engine.port });
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n');
    // Offer up to 32 MiB in 64 KiB chunks; the engine must stop us long before the end.
    const chunk = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
    let sent = 0;
    const deadline = Date.now() + 8000;
    while (!socket.destroyed && sent < 32 * 1024 * 1024 && Date.now() < deadline) {
      if (!socket.write(chunk))
        await Promise.race([
          new Promise((r) => socket.once('drain', r)),
          new Promise((r) => setTimeout(r, 200)),
        ]);
      sent += 0x10000;
      if (received.includes('\r\n\r\n')) break;
    }
    const closed = await closedWithin(socket, 3000);
    socket.destroy();
    assert.match(received, /^HTTP\/1\.1 413 /);
    assert.equal(closed, true);
    assert.ok(sent < 32 * 1024 * 1024, `the engine read the whole ${sent}-byte body`);
    assert.equal(upstream.requests.length, 0, 'the upstream saw a complete request');
  });

  test('a body within the limit is forwarded whole (chunked and Content-Length)', async () => {
    upstream.requests.length = 0;
    const a = await request(engine.port, '/', { method: 'POST', body: 'y'.repeat(1024) });
    const b = await request(engine.port, '/', {
      method: 'POST',
      body: 'y'.repeat(1000),
      headers: { 'transfer-encoding': 'chunked' },
    });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(
      upstream.requests.map((q) => q.body.length),
      [1024, 1000],
    );
  });
});

describe('slow clients', { timeout: 30_000 }, () => {
  test('slowloris: 100 connections trickling header lines are closed by headersTimeout', async () => {
    const conns = Array.from({ length: 100 }, (_, i) =>
      trickle(engine.port, `GET /${i} HTTP/1.1\r\nHost: a.test\r\n`, () => 'X-a: b\r\n', 200),
    );
    try {
      const times = await Promise.all(
        conns.map((c) =>
          Promise.race([c.closedAt, new Promise<number>((r) => setTimeout(() => r(Infinity), 6000))]),
        ),
      );
      const open = times.filter((t) => t === Infinity).length;
      assert.equal(open, 0, `${open} slowloris connections still open after 6 s`);
      // headersTimeout 1 s, checked every 500 ms: none may outlive ~2 s by much.
      assert.ok(Math.max(...times) < 4000, `slowest close after ${Math.max(...times)} ms`);
      const answered = conns.filter((c) => /^HTTP\/1\.1 408 /.test(c.received())).length;
      assert.ok(answered > 0, 'the timed-out clients are told 408');
    } finally {
      for (const c of conns) c.stop();
    }
  });

  test('slow body: a body trickled byte by byte is cut by requestTimeout', async () => {
    upstream.requests.length = 0;
    const c = trickle(
      engine.port,
      'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\n',
      () => 'z',
      200,
    );
    try {
      const t = await Promise.race([
        c.closedAt,
        new Promise<number>((r) => setTimeout(() => r(Infinity), 8000)),
      ]);
      assert.ok(t < 5000, `slow body connection lived ${t} ms (requestTimeout 2 s)`);
      assert.equal(upstream.requests.length, 0, 'an incomplete body was passed on as complete');
    } finally {
      c.stop();
    }
    // The upstream side of the aborted request is released too.
    assert.ok(await eventually(() => engine.gh.upstreamStats().running === 0, 3000));
  });

  test('idle connections that never send a byte, or stall inside the request line, are closed by headersTimeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connectIdle(engine.port)));
    // Read what the engine sends (a 408) so the close is seen.
    for (const s of sockets) s.resume();
    for (const s of sockets.slice(25)) s.write('GET /partial-line');
    try {
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 5000)));
      assert.equal(
        closed.filter((c) => !c).length,
        0,
        `${closed.filter((c) => !c).length} of 50 silent connections still open after 5 s`,
      );
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe('max connections', { timeout: 20_000 }, () => {
  test('connections beyond maxConnections are dropped; the listener never holds more', async () => {
    const capped = await startEngine(
      proxyConfig(upstream.url, {
        ...LIMITS,
        maxConnections: 20,
        headersTimeoutMs: 5000,
        requestTimeoutMs: 5000,
      }),
    );
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 40; i++) sockets.push(await connectIdle(capped.port));
      const results = await Promise.all(sockets.map((s) => closedWithin(s, 1000)));
      const dropped = results.filter(Boolean).length;
      assert.ok(dropped >= 20, `only ${dropped} of 40 connections were refused with maxConnections 20`);
      assert.ok((await listenerConnections(capped.gh)) <= 20);
    } finally {
      for (const s of sockets) s.destroy();
      await capped.close();
    }
  });
});

describe('the event loop stays responsive', { timeout: 30_000 }, () => {
  test('normal requests are answered during slowloris, slow bodies and oversized bodies', async () => {
    const attackers = [
      ...Array.from({ length: 150 }, (_, i) =>
        trickle(engine.port, `GET /s${i} HTTP/1.1\r\nHost: a.test\r\n`, () => 'X-a: b\r\n', 100),
      ),
      ...Array.from({ length: 50 }, () =>
        trickle(
          engine.port,
          'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n',
          () => 'z',
          100,
        ),
      ),
    ];
    const flood = (async () => {
      const end = Date.now() + 2500;
      while (Date.now() < end)
        await rawRequest(engine.port, `POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 99999999\r\n\r\n`, {
          timeoutMs: 1000,
        });
    })();
    try {
      const latencies: number[] = [];
      const end = Date.now() + 2500;
      while (Date.now() < end) {
        const t0 = Date.now();
        const r = await request(engine.port, '/normal', { timeoutMs: 5000 });
        assert.equal(r.status, 200, `a normal request failed during the attack: ${r.error ?? ''}`);
        latencies.push(Date.now() - t0);
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(latencies.length >= 5, `only ${latencies.length} normal requests completed in 2.5 s`);
      assert.ok(Math.max(...latencies) < 3000, `a normal request took ${Math.max(...latencies)} ms`);
    } finally {
      await flood;
      for (const a of attackers) a.stop();
    }
    assert.ok(
      await eventually(async () => (await listenerConnections(engine.gh)) === 0, 5000),
      'attack connections left open',
    );
  });
});
