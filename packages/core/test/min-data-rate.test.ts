// The minimum data rate (issue 22): once its grace has passed, a request head or body that arrives
// slower than `minRequestDataRate` bytes/s on average is answered 408 and its connection closed —
// within the grace plus one sweep of the connection timers (a fifth of the shortest timeout, at most
// 500 ms). A client sending steadily above the rate is served, however long its body takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startEngine, startUpstream } from '../../../test/helpers/engine.js';

const GRACE = 1000;

/** Connect, send `head`, then `piece` every `everyMs`; resolve with what came back, when the server closed. */
function trickle(
  port: number,
  head: string,
  piece: string,
  everyMs: number,
  maxMs: number,
): Promise<{ answer: string; closedAfter: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    let answer = '';
    s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    s.on('error', () => undefined);
    const t = setInterval(() => s.writable && s.write(piece), everyMs);
    const stop = setTimeout(() => s.destroy(), maxMs);
    s.on('close', () => {
      clearInterval(t);
      clearTimeout(stop);
      resolve({ answer, closedAfter: Date.now() - started });
    });
  });
}

async function engine() {
  const up = await startUpstream((_req, res, body) => res.end(`got ${body.length}`));
  const gh = await startEngine({
    limits: { minRequestDataRate: 240, minRequestDataRateGraceMs: GRACE, headersTimeoutMs: 10_000 },
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: up.url } }] }],
  });
  return {
    gh,
    up,
    close: async () => {
      await gh.close();
      await up.close();
    },
  };
}

test('a body trickled below the rate is closed with 408 within the grace plus one sweep', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const r = await trickle(
    e.gh.port,
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx',
    'x',
    300,
    5000,
  );
  assert.match(r.answer, /^HTTP\/1\.1 408/);
  assert.match(r.answer, /"error":"request_timeout"/);
  assert.ok(r.closedAfter >= GRACE - 50 && r.closedAfter <= GRACE + 700, `closed after ${r.closedAfter} ms`);
  assert.equal(e.up.seen.length, 0, 'nothing reached the upstream');
});

test('a head trickled below the rate (slowloris) is closed with 408 before the headers timeout', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const r = await trickle(e.gh.port, 'GET / HTTP/1.1\r\nHost: x\r\n', 'X-a: b\r\n', 500, 5000);
  assert.match(r.answer, /^HTTP\/1\.1 408/);
  assert.ok(r.closedAfter >= GRACE - 50 && r.closedAfter <= GRACE + 700, `closed after ${r.closedAfter} ms`);
});

test('a body sent steadily above the rate is served, however long it takes', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  // 100 bytes every 100 ms: 1,000 bytes/s for 2.5 s.
  const r = await trickle(
    e.gh.port,
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2500\r\nConnection: close\r\n\r\n',
    'y'.repeat(100),
    100,
    6000,
  );
  assert.match(r.answer, /^HTTP\/1\.1 200/);
  assert.match(r.answer, /got 2500$/);
});
