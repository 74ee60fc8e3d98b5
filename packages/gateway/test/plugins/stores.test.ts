// Counter stores under many concurrent callers: in-process, shared by 3 cluster workers through
// the master, and shared by 2 clients of one Redis; and what happens when Redis is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { join } from 'node:path';
import { attachCounterService } from '../../src/plugins/stores/cluster-store.js';
import { MemoryStore } from '../../src/plugins/stores/memory-store.js';
import { RedisStore } from '../../src/plugins/stores/redis-store.js';
import { freePort, redisAvailable, startRedis } from './support/redis.js';

test('memory store: a window counts every hit once and restarts after it ends', async () => {
  let now = 1_000;
  const s = new MemoryStore(() => now);
  const counts = await Promise.all(Array.from({ length: 100 }, () => s.hit('id', 1000, 1)));
  assert.deepEqual(
    counts.map((c) => c.count).sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  assert.equal(counts[0]!.resetInMs, 1000);
  now += 400;
  assert.equal((await s.hit('id', 1000, 1)).resetInMs, 600);
  now += 600;
  assert.equal((await s.hit('id', 1000, 1)).count, 1);
  await s.close();
});

test('memory store: spike arrest admits one request per interval', async () => {
  let now = 0;
  const s = new MemoryStore(() => now);
  assert.deepEqual(await s.reserve('k', 100, 0), { waitMs: 0, slot: 0 });
  assert.equal(await s.reserve('k', 100, 0), null);
  now = 99;
  assert.equal(await s.reserve('k', 100, 0), null);
  now = 100;
  assert.deepEqual(await s.reserve('k', 100, 0), { waitMs: 0, slot: 100 });
  await s.close();
});

test('memory store: with a buffer, early requests wait for the next slots; a leaver frees its slot', async () => {
  let now = 0;
  const s = new MemoryStore(() => now);
  assert.equal(s.reserveSync('k', 100, 2)?.waitMs, 0);
  assert.deepEqual(s.reserveSync('k', 100, 2), { waitMs: 100, slot: 100 });
  assert.deepEqual(s.reserveSync('k', 100, 2), { waitMs: 200, slot: 200 });
  assert.equal(s.reserveSync('k', 100, 2), null, 'two wait already');
  // The tail leaves: the queue shortens and its slot is the next one's.
  s.releaseSync('k', 200, 100);
  assert.deepEqual(s.reserveSync('k', 100, 2), { waitMs: 200, slot: 200 });
  // One in the middle leaves: the next request takes its slot, not a later one.
  now = 50;
  s.releaseSync('k', 100, 100);
  assert.deepEqual(s.reserveSync('k', 100, 2), { waitMs: 50, slot: 100 });
  assert.equal(s.reserveSync('k', 100, 2), null);
  // A freed slot that has passed is not handed out late.
  s.releaseSync('k', 100, 100);
  now = 150;
  assert.deepEqual(s.reserveSync('k', 100, 2), { waitMs: 150, slot: 300 });
  await s.close();
});

interface WorkerResult {
  admitted: number;
  counts: number[];
  spikes: number;
  buffered: number;
}

async function runWorkers(
  env: Record<string, string>[],
): Promise<{ results: WorkerResult[]; requests: number }> {
  let requests = 0;
  const count = (_w: unknown, m: { type?: string; items?: Array<{ type?: string }> }): void => {
    if (m?.type === 'gatehouse:counter:batch')
      requests += (m.items ?? []).filter((i) => i.type === 'gatehouse:counter:request').length;
  };
  cluster.on('message', count);
  const detach = attachCounterService(cluster);
  cluster.setupPrimary({
    exec: join(import.meta.dirname, 'support/cluster-worker.ts'),
    execArgv: ['--conditions=source', '--import', 'tsx'],
  });
  const results: WorkerResult[] = [];
  const workers = env.map((e) => cluster.fork(e));
  try {
    await Promise.all(
      workers.map(async (w) => {
        const exited = once(w, 'exit');
        results.push(
          await new Promise<WorkerResult>((resolve) => {
            w.on('message', (m: WorkerResult & { type?: string }) => {
              if (m?.type === 'result') resolve(m);
            });
          }),
        );
        await exited;
      }),
    );
  } finally {
    for (const w of workers) if (!w.isDead()) w.kill();
    detach();
    cluster.off('message', count);
  }
  return { results, requests };
}

test('cluster store: 3 workers share one window through the master (exactly `allow` admitted)', async () => {
  const { results } = await runWorkers(Array.from({ length: 3 }, () => ({ HITS: '100', ALLOW: '150' })));
  assert.equal(
    results.reduce((n, r) => n + r.admitted, 0),
    150,
  );
  const all = results.flatMap((r) => r.counts).sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 300 }, (_, i) => i + 1),
  );
  assert.equal(
    results.reduce((n, r) => n + r.spikes, 0),
    1,
  );
  // One slot now and two buffered, across all workers.
  assert.equal(
    results.reduce((n, r) => n + r.buffered, 0),
    3,
  );
});

test('cluster store: one worker alone keeps the state (no request to the master per hit)', async () => {
  const { results, requests } = await runWorkers([{ HITS: '200', ALLOW: '150', SEQUENTIAL: '1' }]);
  assert.deepEqual(
    results[0]!.counts,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  assert.equal(results[0]!.admitted, 150);
  // The first hit and the first reserve of each spike identifier; the rest are answered locally.
  assert.ok(requests <= 3 + 40, `${requests} requests to the master`);
  assert.equal(results[0]!.spikes, 1);
  assert.equal(results[0]!.buffered, 3);
});

test('redis store: 2 clients of one Redis share windows and spike state', async (t) => {
  if (!redisAvailable()) return t.skip('redis-server not installed (apt-get install redis-server)');
  const redis = await startRedis();
  const a = new RedisStore({ port: redis.port, prefix: 'test:' });
  const b = new RedisStore({ port: redis.port, prefix: 'test:' });
  try {
    await Promise.all([a.ready(), b.ready()]);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).hit('o.e.app.P', 60_000, 1)),
    );
    assert.deepEqual(
      results.map((r) => r.count).sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    for (const r of results) assert.ok(r.resetInMs > 0 && r.resetInMs <= 60_000);
    const spikes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve('o.e._default', 60_000, 0)),
    );
    assert.equal(spikes.filter(Boolean).length, 1);
    // With a buffer of 2: one now, two waiting (a minute, then two); a waiter that leaves frees its slot.
    const buffered = (
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).reserve('o.e.b', 60_000, 2)))
    ).filter((x) => x !== null);
    assert.equal(buffered.length, 3);
    const waits = buffered.map((x) => x.waitMs).sort((x, y) => x - y);
    assert.ok(waits[0]! === 0 && waits[1]! > 59_000 && waits[2]! > 119_000, waits.join(','));
    const last = buffered.find((x) => x.waitMs === waits[2])!;
    await a.release('o.e.b', last.slot, 60_000);
    const again = await b.reserve('o.e.b', 60_000, 2);
    assert.equal(again?.slot, last.slot);
    // Down: commands fail fast instead of queueing.
    await redis.stop();
    const started = Date.now();
    await assert.rejects(a.hit('o.e.app.P', 60_000, 1));
    await assert.rejects(b.reserve('o.e._default', 60_000, 0));
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

test('redis store: a server that was never there rejects', async () => {
  const s = new RedisStore({ port: await freePort(), prefix: 'test:' });
  try {
    await assert.rejects(s.hit('x', 1000, 1));
  } finally {
    await s.close();
  }
});
