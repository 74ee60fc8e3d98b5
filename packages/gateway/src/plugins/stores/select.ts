// The counter store the traffic plugins use, chosen from `quotas` (edgemicro's section): Redis when
// `useRedis` is set, else the cluster master's store in a worker, else this process. One store per
// distinct choice, kept across control-plane polls (connections are not reopened per poll).
import cluster from 'node:cluster';
import type { CounterStore } from './counter-store.js';
import { ClusterStore } from './cluster-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { bool, num, str, type Section } from '../shared/options.js';

const stores = new Map<string, CounterStore>();

export function counterStore(quotas: Section): CounterStore {
  if (bool(quotas, 'quotas', 'useRedis', false)) {
    const opts = {
      host: str(quotas, 'quotas', 'host', '127.0.0.1'),
      port: num(quotas, 'quotas', 'port', 6379, 1),
      db: num(quotas, 'quotas', 'db', 0),
      password: str(quotas, 'quotas', 'redisPassword'),
    };
    const id = `redis:${opts.host}:${opts.port}:${opts.db}`;
    let s = stores.get(id);
    if (!s) stores.set(id, (s = new RedisStore(opts)));
    return s;
  }
  const id = cluster.isWorker ? 'cluster' : 'memory';
  let s = stores.get(id);
  if (!s) stores.set(id, (s = cluster.isWorker ? new ClusterStore() : new MemoryStore()));
  return s;
}

/** Close every store (process shutdown). */
export async function closeCounterStores(): Promise<void> {
  const all = [...stores.values()];
  stores.clear();
  await Promise.all(all.map((s) => s.close()));
}
