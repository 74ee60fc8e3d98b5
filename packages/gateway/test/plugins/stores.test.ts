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
  assert.equal(await s.admit('k', 100), true);
  assert.equal(await s.admit('k', 100), false);
  now = 99;
  assert.equal(await s.admit('k', 100), false);
  now = 100;
  assert.equal(await s.admit('k', 100), true);
  await s.close();
});

test('cluster store: 3 workers share one window through the master (exactly `allow` admitted)', async () => {
  const detach = attachCounterService(cluster);
  cluster.setupPrimary({
    exec: join(import.meta.dirname, 'support/cluster-worker.ts'),
    execArgv: ['--conditions=source', '--import', 'tsx'],
  });
  const results: Array<{ admitted: number; counts: number[]; spikes: number }> = [];
  const workers = Array.from({ length: 3 }, () => cluster.fork({ HITS: '100', ALLOW: '150' }));
  try {
    await Promise.all(
      workers.map(async (w) => {
        const exited = once(w, 'exit');
        const msg = await new Promise<{ admitted: number; counts: number[]; spikes: number }>((resolve) => {
          w.on('message', (m: { type?: string; admitted: number; counts: number[]; spikes: number }) => {
            if (m?.type === 'result') resolve(m);
          });
        });
        results.push(msg);
        await exited;
      }),
    );
  } finally {
    for (const w of workers) if (!w.isDead()) w.kill();
    detach();
  }
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
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).admit('o.e._default', 60_000)),
    );
    assert.equal(spikes.filter(Boolean).length, 1);
    // Down: commands fail fast instead of queueing.
    await redis.stop();
    const started = Date.now();
    await assert.rejects(a.hit('o.e.app.P', 60_000, 1));
    await assert.rejects(b.admit('o.e._default', 60_000));
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
