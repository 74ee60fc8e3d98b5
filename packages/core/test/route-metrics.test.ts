// The per-request metrics print what prom-client's Counter and Histogram printed for the same
// requests: the same text and JSON from a registry, series in first-use order, bucket edges included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as prom from '../src/observability/prom-client.js';
import { RouteMetrics, type RouteSeries } from '../src/observability/route-metrics.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const NAMES = {
  requests: 'gatehouse_requests_total',
  requestsHelp: 'Requests answered, by server, route and status class',
  duration: 'gatehouse_request_duration_seconds',
  durationHelp: 'Time from request arrival to the end of the response',
};
const LABELS = ['server', 'route', 'status_class'] as const;

type Observation = [server: string, route: string, cls: string, seconds: number];

/** The same observations through prom-client's metrics and through ours, each in its own registry. */
async function both(
  observations: Observation[],
): Promise<{ theirs: string; ours: string; theirsJson: unknown; oursJson: unknown }> {
  const a = new prom.Registry();
  const counter = new prom.Counter({
    name: NAMES.requests,
    help: NAMES.requestsHelp,
    labelNames: LABELS,
    registers: [a],
  });
  const histogram = new prom.Histogram({
    name: NAMES.duration,
    help: NAMES.durationHelp,
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [a],
  });
  const b = new prom.Registry();
  const ours = new RouteMetrics(b, NAMES, BUCKETS);
  const kept = new Map<string, RouteSeries>();
  for (const [server, route, cls, seconds] of observations) {
    counter.labels(server, route, cls).inc();
    histogram.labels(server, route, cls).observe(seconds);
    const key = `${server}|${route}|${cls}`;
    let s = kept.get(key);
    if (!s) kept.set(key, (s = ours.get({ server, route, status_class: cls })));
    s.observe(seconds);
  }
  return {
    theirs: await a.metrics(),
    ours: await b.metrics(),
    theirsJson: await a.getMetricsAsJSON(),
    oursJson: await b.getMetricsAsJSON(),
  };
}

test('the same text and JSON as prom-client for hand-picked requests (bucket edges, several routes and classes)', async () => {
  const r = await both([
    ['main', 'api', '2xx', 0.001],
    ['main', 'api', '4xx', 0.0010001],
    ['main', 'api', '2xx', 30],
    ['main', 'api', '2xx', 31],
    ['edge', 'v2 "quoted"\\path', '5xx', 0],
    ['main', '', '4xx', 0.3],
    ['main', 'api', '2xx', 2.5],
  ]);
  assert.equal(r.ours, r.theirs);
  assert.deepEqual(r.oursJson, r.theirsJson);
  assert.match(
    r.ours,
    /gatehouse_request_duration_seconds_bucket\{le="\+Inf",server="main",route="api",status_class="2xx"\} 4/,
  );
});

test('the same text as prom-client for generated requests (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(
          fc.constantFrom('main', 'edge'),
          fc.constantFrom('a', 'b', ''),
          fc.constantFrom('1xx', '2xx', '3xx', '4xx', '5xx'),
          fc.oneof(fc.constantFrom(...BUCKETS), fc.double({ min: 0, max: 40, noNaN: true })),
        ),
        { maxLength: 40 },
      ),
      async (observations) => {
        const r = await both(observations);
        assert.equal(r.ours, r.theirs);
      },
    ),
    { numRuns: 200, seed: 20261202 },
  );
});

test('after a reset the series print nothing until used again, as prom-client', async () => {
  const b = new prom.Registry();
  const ours = new RouteMetrics(b, NAMES, BUCKETS);
  const s = ours.get({ server: 'main', route: 'api', status_class: '2xx' });
  s.observe(0.2);
  assert.match(
    await b.metrics(),
    /gatehouse_requests_total\{server="main",route="api",status_class="2xx"\} 1/,
  );
  b.resetMetrics();
  assert.doesNotMatch(await b.metrics(), /status_class="2xx"/);
  s.observe(0.2);
  assert.match(
    await b.metrics(),
    /gatehouse_requests_total\{server="main",route="api",status_class="2xx"\} 1/,
  );
});
