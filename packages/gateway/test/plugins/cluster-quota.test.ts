// quota across cluster workers of one gateway: each worker runs the real engine with oauth +
// quota; counters live in the master (attachCounterService) or, leased, in the one worker using
// them. Exactly `allow` requests pass, across 3 workers and across a worker's replacement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import http from 'node:http';
import { join } from 'node:path';
import { attachCounterService } from '../../src/plugins/registry.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { startUpstream } from './support/gateway.js';
import { freePort } from './support/redis.js';

/** The master's side for one test: an upstream, the counter service, workers of
 *  support/cluster-gateway.ts (oauth + quota with `allow` per window) on one port. */
async function startCluster(allow: number) {
  const keys = makeKeys();
  const upstream = await startUpstream();
  const detach = attachCounterService(cluster);
  const port = await freePort();
  cluster.setupPrimary({
    exec: join(import.meta.dirname, 'support/cluster-gateway.ts'),
    execArgv: ['--conditions=source', '--import', 'tsx'],
  });
  const env = {
    UPSTREAM_PORT: String(upstream.port),
    JWT_PUBLIC_PEM: keys.publicPem,
    QUOTA_ALLOW: String(allow),
    GATEWAY_PORT: String(port),
  };
  return {
    keys,
    port,
    /** A new worker, and its pid once it listens. */
    fork: (): { worker: Worker; listening: Promise<number> } => {
      const worker = cluster.fork(env);
      const listening = new Promise<number>((resolve, reject) => {
        worker.on('message', (m: { type?: string; pid: number }) => {
          if (m?.type === 'listening') resolve(m.pid);
        });
        worker.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
      });
      return { worker, listening };
    },
    close: async (): Promise<void> => {
      detach();
      await upstream.close();
    },
  };
}

/** Stop a worker (it drains, giving its leases back) and wait for its exit. */
async function stop(w: Worker): Promise<void> {
  if (w.isDead()) return;
  const exited = once(w, 'exit');
  w.send({ type: 'stop' });
  await exited;
}

/** The status of one GET /shop/a on a new connection (so the cluster spreads them over the workers). */
function status(port: number, auth: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/shop/a', agent: false, headers: { authorization: auth } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
  });
}

test('quota allows exactly `allow` requests across 3 workers', async () => {
  const c = await startCluster(12);
  const started = Array.from({ length: 3 }, () => c.fork());
  try {
    const pids = await Promise.all(started.map((w) => w.listening));
    assert.equal(new Set(pids).size, 3);
    const auth = `Bearer ${signJwt(c.keys, claimsFor(['shop-quota'], { application_name: 'cluster-app' }))}`;
    const statuses = await Promise.all(Array.from({ length: 36 }, () => status(c.port, auth)));
    assert.equal(statuses.filter((s) => s === 200).length, 12);
    assert.equal(statuses.filter((s) => s === 403).length, 24);
  } finally {
    await Promise.all(started.map((w) => stop(w.worker)));
    await c.close();
  }
});

test('quota counts on across a worker replaced by its successor (the lease goes back at drain)', async () => {
  const c = await startCluster(8);
  const auth = `Bearer ${signJwt(c.keys, claimsFor(['shop-quota'], { application_name: 'reload-app' }))}`;
  const statuses = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await status(c.port, auth));
    return out;
  };
  const workers: Worker[] = [];
  try {
    const first = c.fork();
    workers.push(first.worker);
    await first.listening;
    assert.deepEqual(await statuses(5), [200, 200, 200, 200, 200]);
    // A rolling reload: the successor starts, then the old worker drains and exits.
    const successor = c.fork();
    workers.push(successor.worker);
    await successor.listening;
    await stop(workers[0]!);
    assert.deepEqual(await statuses(5), [200, 200, 200, 403, 403]);
  } finally {
    for (const w of workers) await stop(w);
    await c.close();
  }
});
