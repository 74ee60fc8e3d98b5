// quota across 3 cluster workers of one gateway: each worker runs the real engine with oauth +
// quota; counters live in the master (attachCounterService). Exactly `allow` requests pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
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
