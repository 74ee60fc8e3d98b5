// The engine's default process metrics, registered file by file (src/observability/prom-client.ts),
// are exposed as prom-client's collectDefaultMetrics exposes them: the same series in the same order,
// with the same help, types and labels, but the GC duration histogram, left out on purpose (its
// per-collection cost: see prom-client.ts); the CPU counters count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { EngineMetrics } from '../src/observability/metrics.js';

/** The exposition without sample values (they differ from one registry to the next). */
const shape = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.startsWith('#') ? l : l.slice(0, l.lastIndexOf(' '))));

test('default metrics: the series, help, types and labels of collectDefaultMetrics, in its order, but GC durations', async () => {
  const reference = new Registry();
  collectDefaultMetrics({ register: reference, prefix: 'gatehouse_process_' });
  const engine = new EngineMetrics();
  // Some series (event-loop percentiles, GC kinds in the reference) appear once there has been something to count.
  for (let i = 0; i < 3; i++) {
    const garbage = Array.from({ length: 100_000 }, (_, j) => ({ j }));
    assert.equal(garbage.length, 100_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const text = await engine.registry.metrics();
  const ours = shape(text).filter((l) => l.includes('gatehouse_process_'));
  const all = shape(await reference.metrics());
  const theirs = all.filter((l) => !l.includes('nodejs_gc_duration_seconds'));
  assert.ok(theirs.length > 40 && theirs.length < all.length, all.join('\n'));
  assert.deepEqual(ours, theirs);
  const cpu = /^gatehouse_process_process_cpu_seconds_total (\S+)$/m.exec(text);
  assert.ok(cpu && Number(cpu[1]) > 0, cpu?.[0]);
});

test('a Registry from prom-client’s index works with the engine’s metrics', async () => {
  const registry = new Registry();
  const metrics = new EngineMetrics(registry, { defaultMetrics: false });
  metrics.reloads.inc({ result: 'success' });
  assert.match(await registry.metrics(), /gatehouse_config_reloads_total\{result="success"\} 1/);
});
