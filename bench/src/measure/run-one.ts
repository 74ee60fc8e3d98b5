// Measures systems in a scenario: start each, check it answers, warm up, measure N windows, read its
// memory, stop it. Every step is bounded in time; a system is always stopped. The runner interleaves
// the windows of the systems (rep 1 of each, then rep 2 …) so a slow spell of the shared machine
// falls on all of them rather than on one.
import { runH2load } from '../load/h2load.js';
import { holdIdleConnections } from '../load/idle.js';
import type { LoadResult } from '../load/types.js';
import { runWrk } from '../load/wrk.js';
import { runWsLoad } from '../load/ws.js';
import type { Peer, RunContext, RunningSystem } from '../peers/types.js';
import { cpuSeconds, currentRss, peakRss } from '../proc/stats.js';
import type { LoadSpec, Scenario } from '../scenarios/types.js';
import { medianOf } from './median.js';
import { smokeRequest } from './smoke.js';
import type { RepMetrics, SystemResult, Timing } from './types.js';

const MiB = 1024 * 1024;

/** Every process of the system: CPU and memory figures are their sum. */
function pids(sys: RunningSystem): number[] {
  return sys.procs.map((p) => p.pid);
}

function applyLoad(
  ctx: RunContext,
  sys: RunningSystem,
  load: LoadSpec,
  seconds: number,
): Promise<LoadResult> {
  const base = `${sys.scheme}://127.0.0.1:${sys.port}`;
  switch (load.kind) {
    case 'wrk':
      return runWrk({
        url: base + load.path,
        connections: load.connections,
        seconds,
        dir: ctx.dir,
        ...(load.headers ? { headers: load.headers } : {}),
        ...(load.postBytes !== undefined ? { postBytes: load.postBytes } : {}),
      });
    case 'h2load':
      return runH2load({ url: base + load.path, clients: load.clients, streams: load.streams, seconds });
    case 'ws':
      return runWsLoad(
        `${sys.scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${sys.port}${load.path}`,
        load.connections,
        seconds,
        load.messageBytes,
      );
    case 'idle':
      throw new Error('idle load is measured by measureIdle');
  }
}

async function measureWindow(
  ctx: RunContext,
  sys: RunningSystem,
  load: LoadSpec,
  seconds: number,
): Promise<RepMetrics> {
  const cpu0 = cpuSeconds(pids(sys));
  const r = await applyLoad(ctx, sys, load, seconds);
  const cpu = cpuSeconds(pids(sys)) - cpu0;
  return {
    requestsPerSecond: r.requests / r.seconds,
    ...(r.p50Ms !== undefined ? { p50Ms: r.p50Ms } : {}),
    ...(r.p99Ms !== undefined ? { p99Ms: r.p99Ms } : {}),
    reqPerCpuSecond: cpu > 0 ? r.requests / cpu : NaN,
    cpuPercent: (cpu / r.seconds) * 100,
    mbPerSecond: r.bytesPerSecond / 1e6,
    errors: r.errors,
    rssMiB: currentRss(pids(sys)) / MiB,
  };
}

async function measureIdle(
  sys: RunningSystem,
  load: Extract<LoadSpec, { kind: 'idle' }>,
  settleSeconds: number,
): Promise<RepMetrics> {
  const hold = await holdIdleConnections(sys.port, load.connections, load.path, 60000);
  try {
    // Let the proxy settle (timers, GC) before reading its memory, but not long enough for timeouts.
    await new Promise((r) => setTimeout(r, Math.max(settleSeconds, 1) * 1000));
    return {
      requestsPerSecond: NaN,
      reqPerCpuSecond: NaN,
      cpuPercent: NaN,
      mbPerSecond: NaN,
      errors: hold.failed,
      rssMiB: currentRss(pids(sys)) / MiB,
      openConnections: hold.open,
    };
  } finally {
    await hold.release();
  }
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function describeRep(m: RepMetrics): string {
  if (m.openConnections !== undefined)
    return `${fmt(m.openConnections)} open, RSS ${fmt(m.rssMiB, 1)} MiB, ${m.errors} failed`;
  return (
    `${fmt(m.requestsPerSecond)} req/s, p99 ${fmt(m.p99Ms, 1)} ms, ${fmt(m.reqPerCpuSecond)} req/CPU-s, ` +
    `CPU ${fmt(m.cpuPercent)} %, ${fmt(m.mbPerSecond, 1)} MB/s${m.errors ? `, ${m.errors} errors` : ''}`
  );
}

/** A system started, checked and warmed up for a scenario, collecting its measured windows. */
export interface PreparedSystem {
  peer: Peer;
  sys: RunningSystem;
  reps: RepMetrics[];
  failed?: string;
}

/** Start the system, check that it answers as the origin would, warm it up. */
export async function prepareSystem(
  ctx: RunContext,
  scenario: Scenario,
  peer: Peer,
  timing: Timing,
): Promise<PreparedSystem | SystemResult> {
  const base = { scenario: scenario.name, system: peer.name, reps: [] as RepMetrics[] };
  const hook = peer.name === 'gatehouse' ? scenario.gatehouseConfig : undefined;
  const startSystem = scenario.start?.[peer.name];
  let sys: RunningSystem;
  try {
    sys = startSystem ? await startSystem(ctx, scenario.spec) : await peer.start(ctx, scenario.spec, hook);
  } catch (err) {
    return { ...base, status: 'failed', reason: (err as Error).message };
  }
  try {
    const smoke = await smokeRequest(sys.scheme, sys.port, scenario.load.path, loadHeaders(scenario.load));
    if (smoke.status !== 200) throw new Error(`smoke request ${scenario.load.path} answered ${smoke.status}`);
    if (scenario.smokeBody !== undefined && smoke.body !== scenario.smokeBody)
      throw new Error(
        `smoke request ${scenario.load.path} answered ${JSON.stringify(smoke.body.slice(0, 80))}, ` +
          `not the origin's ${JSON.stringify(scenario.smokeBody)}`,
      );
    if (scenario.load.kind !== 'idle' && timing.warmupSeconds > 0)
      await applyLoad(ctx, sys, scenario.load, timing.warmupSeconds);
    return { peer, sys, reps: [] };
  } catch (err) {
    await sys.stop();
    return { ...base, status: 'failed', reason: (err as Error).message.split('\n')[0] };
  }
}

/** One measured window (or the idle measurement) of a prepared system. */
export async function measureRep(
  ctx: RunContext,
  scenario: Scenario,
  p: PreparedSystem,
  timing: Timing,
): Promise<RepMetrics | undefined> {
  if (p.failed) return undefined;
  try {
    const m =
      scenario.load.kind === 'idle'
        ? await measureIdle(p.sys, scenario.load, timing.warmupSeconds)
        : await measureWindow(ctx, p.sys, scenario.load, timing.seconds);
    p.reps.push(m);
    return m;
  } catch (err) {
    p.failed = (err as Error).message.split('\n')[0];
    return undefined;
  }
}

/** Read the system's peak memory, stop it and sum up its windows. */
export async function finishSystem(scenario: Scenario, p: PreparedSystem): Promise<SystemResult> {
  const base = { scenario: scenario.name, system: p.peer.name, reps: p.reps };
  try {
    if (p.failed) return { ...base, status: 'failed', reason: p.failed };
    return { ...base, status: 'ok', median: medianOf(p.reps), peakRssMiB: peakRss(pids(p.sys)) / MiB };
  } finally {
    await p.sys.stop();
  }
}

/** The load's request headers (`Name: value` lines), for the smoke request. */
function loadHeaders(load: LoadSpec): Record<string, string> {
  const out: Record<string, string> = {};
  if (load.kind !== 'wrk') return out;
  for (const h of load.headers ?? []) {
    const i = h.indexOf(':');
    if (i > 0) out[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return out;
}
