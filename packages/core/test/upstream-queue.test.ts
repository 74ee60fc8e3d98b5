// The pool's wait queue is bounded in length and in time (issue 22): with every connection busy, a
// request waits at most `queueTimeoutMs`, at most `maxQueued` wait, and the others are answered
// 503 `upstream_busy` at once; each is counted in gatehouse_upstream_errors_total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, startUpstream } from '../../../test/helpers/engine.js';
import { request } from '../../../test/helpers/client.js';

test('a full pool queues at most maxQueued requests, each for at most queueTimeoutMs', async () => {
  let hold: (() => void) | undefined;
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/slow') hold = () => res.end('slow');
    else res.end('fast');
  });
  const engine = await startEngine({
    upstreams: { u: { url: upstream.url, maxConnections: 1, maxQueued: 1, queueTimeoutMs: 2000 } },
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'u' } }] }],
  });
  try {
    const slow = request(`${engine.url}/slow`);
    while (!hold) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    const queued = request(`${engine.url}/queued`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(engine.gh.upstreamStats().pending, 1);
    // The queue is full: answered at once, not after the queue timeout.
    const fullStarted = Date.now();
    const full = await request(`${engine.url}/full`);
    const fullMs = Date.now() - fullStarted;
    assert.equal(full.status, 503);
    const fullBody = JSON.parse(full.text) as { error: string; detail: string };
    assert.equal(fullBody.error, 'upstream_busy');
    assert.equal(fullBody.detail, 'UPSTREAM_QUEUE_FULL');
    assert.ok(fullMs < 1500, `the request over the queue bound waited ${fullMs} ms`);
    // The queued one is answered once it waited queueTimeoutMs.
    const timedOut = await queued;
    const waited = Date.now() - started;
    assert.equal(timedOut.status, 503);
    assert.equal((JSON.parse(timedOut.text) as { detail: string }).detail, 'UPSTREAM_QUEUE_TIMEOUT');
    assert.ok(waited >= 1950 && waited < 6000, `answered after ${waited} ms`);
    assert.equal(engine.gh.upstreamStats().pending, 0);
    // The held exchange is unaffected, and the pool serves again afterwards.
    hold();
    assert.equal((await slow).text, 'slow');
    assert.equal((await request(`${engine.url}/next`)).text, 'fast');
    const metrics = await engine.gh.metrics.registry.metrics();
    assert.match(metrics, /gatehouse_upstream_errors_total\{kind="upstream_busy"\} 2/);
  } finally {
    await engine.close();
    await upstream.close();
  }
});

test('a request queued for a connection is served in order when one frees up', async () => {
  const upstream = await startUpstream((_req, res) => setTimeout(() => res.end('ok'), 30));
  const engine = await startEngine({
    upstreams: { u: { url: upstream.url, maxConnections: 2, queueTimeoutMs: 5000 } },
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'u' } }] }],
  });
  try {
    const all = await Promise.all(Array.from({ length: 12 }, (_v, i) => request(`${engine.url}/${i}`)));
    for (const r of all) assert.equal(r.status, 200);
    assert.ok(upstream.connections() <= 2);
  } finally {
    await engine.close();
    await upstream.close();
  }
});
