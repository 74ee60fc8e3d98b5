// /metrics of a gateway run with --workers N: every worker's registry, collected over the cluster
// IPC by the primary, made into one, so that a scrape (answered by whichever worker accepted it)
// shows the whole gateway. Loaded by a worker on its first scrape only.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { WorkerMetrics } from './messages.js';

type Metric = PromClient.MetricObjectWithValues<PromClient.MetricValue<string>>;

const require = createRequire(import.meta.url);
// prom-client's cluster file alone (observability/prom-client.ts says why not its index); it loads
// node:cluster on first use only.
const AggregatorRegistry = require('prom-client/lib/cluster') as typeof PromClient.AggregatorRegistry;

/** Series of one process (memory, event loop, CPU, handles): summing them over workers would mean
 *  little, so each worker's are kept apart under a `worker` label. */
const PER_PROCESS_PREFIX = 'gatehouse_process_';
const AGGREGATORS = new Set(['sum', 'first', 'min', 'max', 'average', 'omit']);

function isMetric(m: unknown): m is Metric {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Partial<Metric>;
  return (
    typeof o.name === 'string' &&
    typeof o.help === 'string' &&
    typeof o.type === 'string' &&
    Array.isArray(o.values)
  );
}

/**
 * One registry for the whole gateway: engine series summed over the workers (counters, histograms,
 * gauges by their own aggregator: open connections add up, a certificate's expiry is the least);
 * process series per worker (`worker` label); and per worker, the requests it answered
 * (`gatehouse_worker_requests_total`, to see how the kernel spreads connections) and how many
 * workers the scrape includes (`gatehouse_workers`).
 */
export function aggregateWorkerMetrics(workers: readonly WorkerMetrics[]): PromClient.Registry {
  const lists: Metric[][] = [];
  const answered: Metric = {
    name: 'gatehouse_worker_requests_total',
    help: 'Requests answered, by worker process (cluster worker id)',
    type: 'counter',
    aggregator: 'sum',
    values: [],
  } as unknown as Metric;
  for (const w of workers) {
    const worker = String(w.worker);
    const list: Metric[] = [];
    let requests = 0;
    for (const m of w.metrics) {
      if (!isMetric(m)) continue;
      const perProcess = m.name.startsWith(PER_PROCESS_PREFIX);
      const aggregator = perProcess || !AGGREGATORS.has(m.aggregator) ? 'sum' : m.aggregator;
      const values = perProcess ? m.values.map((v) => ({ ...v, labels: { ...v.labels, worker } })) : m.values;
      if (m.name === 'gatehouse_requests_total') for (const v of m.values) requests += v.value;
      list.push({ ...m, aggregator, values });
    }
    answered.values.push({ value: requests, labels: { worker } });
    lists.push(list);
  }
  const count = {
    name: 'gatehouse_workers',
    help: 'Worker processes whose metrics this scrape includes',
    type: 'gauge',
    aggregator: 'sum',
    values: [{ value: workers.length, labels: {} }],
  } as unknown as Metric;
  lists.push([answered, count]);
  return AggregatorRegistry.aggregate(lists);
}
