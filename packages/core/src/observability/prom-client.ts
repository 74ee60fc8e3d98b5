// prom-client, loaded file by file. Its index also loads the push gateway (https, zlib), the cluster
// aggregator, summaries (tdigest, bintrees) and, for the exemplars of its CPU metric,
// @opentelemetry/api: about 1.3 MiB of the proxy's start-up memory for nothing the engine uses
// (bench/ANALYSIS.md, "Memory"). The classes are the very modules the index exports (a Registry made
// from 'prom-client' works with them), and the default metrics are the index's but one, registered in
// its order with the same names, help, types and values; only the CPU counters are made here, as
// prom-client makes them without exemplars. prom-client is pinned (package.json): these are its
// 15.1 file names.
//
// One of the index's default metrics is left out: the GC duration histogram (nodejs_gc_duration_seconds).
// It observes every collection through perf_hooks, and node then calls into JavaScript and builds an
// entry object for each one. Under a proxy's load with the `balanced` heap profile that is a scavenge
// every few milliseconds; it cost about 6 % of requests per CPU-second on small responses (same-window
// A/B, bench/ANALYSIS.md item 14). The heap series (sizes per space) stay.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;

type DefaultMetric = (registry: PromClient.Registry, config: DefaultMetricsConfig) => void;
interface DefaultMetricsConfig {
  register: PromClient.Registry;
  prefix: string;
  eventLoopMonitoringPrecision: number;
}

/** prom-client's processCpuTotal (lib/metrics/processCpuTotal.js) without exemplars, which are
 *  never enabled here: its only use of @opentelemetry/api. */
function processCpuTotal(registry: PromClient.Registry, config: DefaultMetricsConfig): void {
  const registers = [registry];
  const namePrefix = config.prefix;
  let lastCpuUsage = process.cpuUsage();
  const cpuUserUsageCounter: PromClient.Counter = new Counter({
    name: namePrefix + 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    enableExemplars: false,
    registers,
    labelNames: [],
    // Use this one metric's `collect` to set all metrics' values.
    collect() {
      const cpuUsage = process.cpuUsage();
      const userUsageMicros = cpuUsage.user - lastCpuUsage.user;
      const systemUsageMicros = cpuUsage.system - lastCpuUsage.system;
      lastCpuUsage = cpuUsage;
      cpuUserUsageCounter.inc({}, userUsageMicros / 1e6);
      cpuSystemUsageCounter.inc({}, systemUsageMicros / 1e6);
      cpuUsageCounter.inc({}, (userUsageMicros + systemUsageMicros) / 1e6);
    },
  });
  const cpuSystemUsageCounter = new Counter({
    name: namePrefix + 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    enableExemplars: false,
    registers,
    labelNames: [],
  });
  const cpuUsageCounter = new Counter({
    name: namePrefix + 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    enableExemplars: false,
    registers,
    labelNames: [],
  });
}

/** prom-client's collectDefaultMetrics({ register: registry, prefix }) (lib/defaultMetrics.js) without
 *  the GC histogram (see above). */
export function collectDefaultMetrics(registry: PromClient.Registry, prefix: string): void {
  const metric = (name: string) => require(`prom-client/lib/metrics/${name}`) as DefaultMetric;
  const metrics: DefaultMetric[] = [
    processCpuTotal,
    metric('processStartTime'),
    metric('osMemoryHeap'),
    metric('processOpenFileDescriptors'),
    metric('processMaxFileDescriptors'),
    metric('eventLoopLag'),
    ...(typeof process.getActiveResourcesInfo === 'function' ? [metric('processResources')] : []),
    metric('processHandles'),
    metric('processRequests'),
    metric('heapSizeAndUsed'),
    metric('heapSpacesSizeAndUsed'),
    metric('version'),
  ];
  const config = { eventLoopMonitoringPrecision: 10, register: registry, prefix };
  for (const m of metrics) m(config.register, config);
}
