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

test('quota allows exactly `allow` requests across 3 workers', async () => {
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
    QUOTA_ALLOW: '12',
    GATEWAY_PORT: String(port),
  };
  const workers = Array.from({ length: 3 }, () => cluster.fork(env));
  try {
    const pids = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve, reject) => {
            w.on('message', (m: { type?: string; pid: number }) => m?.type === 'listening' && resolve(m.pid));
            w.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
          }),
      ),
    );
    assert.equal(new Set(pids).size, 3);
    const auth = `Bearer ${signJwt(keys, claimsFor(['shop-quota'], { application_name: 'cluster-app' }))}`;
    // New connections each time, so the cluster spreads them over the workers.
    const statuses = await Promise.all(
      Array.from(
        { length: 36 },
        () =>
          new Promise<number>((resolve, reject) => {
            const req = http.get(
              { host: '127.0.0.1', port, path: '/shop/a', agent: false, headers: { authorization: auth } },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              },
            );
            req.on('error', reject);
          }),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 12);
    assert.equal(statuses.filter((s) => s === 403).length, 24);
  } finally {
    for (const w of workers) if (!w.isDead()) w.send({ type: 'stop' });
    await Promise.all(workers.map((w) => (w.isDead() ? undefined : new Promise((r) => w.once('exit', r)))));
    detach();
    await upstream.close();
  }
});

test('quota counts on across a worker replaced by its successor (the lease goes back at drain)', async () => {
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
    QUOTA_ALLOW: '8',
    GATEWAY_PORT: String(port),
  };
  const fork = async (): Promise<Worker> => {
    const w = cluster.fork(env);
    await new Promise<void>((resolve, reject) => {
      w.on('message', (m: { type?: string }) => m?.type === 'listening' && resolve());
      w.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
    });
    return w;
  };
  const stop = async (w: Worker): Promise<void> => {
    if (w.isDead()) return;
    const exited = once(w, 'exit');
    w.send({ type: 'stop' });
    await exited;
  };
  const auth = `Bearer ${signJwt(keys, claimsFor(['shop-quota'], { application_name: 'reload-app' }))}`;
  const statuses = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++)
      out.push(
        await new Promise<number>((resolve, reject) => {
          const req = http.get(
            { host: '127.0.0.1', port, path: '/shop/a', agent: false, headers: { authorization: auth } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
        }),
      );
    return out;
  };
  const workers: Worker[] = [];
  try {
    workers.push(await fork());
    assert.deepEqual(await statuses(5), [200, 200, 200, 200, 200]);
    // A rolling reload: the successor starts, then the old worker drains and exits.
    workers.push(await fork());
    await stop(workers[0]!);
    assert.deepEqual(await statuses(5), [200, 200, 200, 403, 403]);
  } finally {
    for (const w of workers) await stop(w);
    detach();
    await upstream.close();
  }
});
