// The per-request metrics (requests by server, route and status class, and their durations) as
// plain counters per label set, read by the registry at scrape time. prom-client's own Counter and
// Histogram hash their labels and build a closure on every observation (about 2 µs per request,
// bench/ANALYSIS.md round 4); these produce the very values prom-client's would, so the registry
// prints the same lines (packages/core/test/route-metrics.test.ts compares the two).
import type { Registry } from 'prom-client';

export type RouteLabels = { server: string; route: string; status_class: string };

/** One label set: a request count, a duration sum and a count per bucket (not cumulative). */
export class RouteSeries {
  count = 0;
  sum = 0;
  readonly buckets: Float64Array;

  constructor(
    readonly labels: RouteLabels,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++)
      if (seconds <= b[i]!) {
        this.buckets[i]!++;
        return;
      }
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  sharedLabels?: Record<string, string>;
  /** prom-client sets null on buckets and leaves it undefined on _sum and _count (JSON keeps the key). */
  exemplar?: null | undefined;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** Both metrics over the same series, registered in `registry` under prom-client's metric interface. */
export class RouteMetrics {
  private readonly series = new Map<string, RouteSeries>();

  constructor(
    registry: Registry,
    private readonly names: {
      requests: string;
      requestsHelp: string;
      duration: string;
      durationHelp: string;
    },
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this.requestsMetric() as never);
    registry.registerMetric(this.durationMetric() as never);
  }

  /** The series of a label set, made on first use (callers keep it: one lookup per route). */
  get(labels: RouteLabels): RouteSeries {
    const key = `${labels.server}\u0000${labels.route}\u0000${labels.status_class}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new RouteSeries(labels, this.bounds)));
    return s;
  }

  /** Zero every series (they stay: callers keep them); unused series are not printed. */
  private reset(): void {
    for (const s of this.series.values()) {
      s.count = 0;
      s.sum = 0;
      s.buckets.fill(0);
    }
  }

  private requestsMetric(): object {
    const data = (): MetricData => ({
      help: this.names.requestsHelp,
      name: this.names.requests,
      type: 'counter',
      values: [...this.series.values()]
        .filter((s) => s.count > 0)
        .map((s) => ({ value: s.count, labels: { ...s.labels } })),
      aggregator: 'sum',
    });
    return {
      name: this.names.requests,
      help: this.names.requestsHelp,
      type: 'counter',
      aggregator: 'sum',
      get: async () => data(),
      reset: () => this.reset(),
    };
  }

  private durationMetric(): object {
    const name = this.names.duration;
    const forPromString = (): MetricData => {
      const values: MetricValue[] = [];
      for (const s of this.series.values()) {
        if (s.count === 0) continue;
        let acc = 0;
        for (let i = 0; i < this.bounds.length; i++) {
          acc += s.buckets[i]!;
          values.push({
            labels: { le: this.bounds[i]! },
            value: acc,
            metricName: `${name}_bucket`,
            exemplar: null,
            sharedLabels: s.labels,
          });
        }
        values.push(
          {
            labels: { le: '+Inf' },
            value: s.count,
            metricName: `${name}_bucket`,
            exemplar: null,
            sharedLabels: s.labels,
          },
          {
            labels: {},
            value: s.sum,
            metricName: `${name}_sum`,
            exemplar: undefined,
            sharedLabels: s.labels,
          },
          {
            labels: {},
            value: s.count,
            metricName: `${name}_count`,
            exemplar: undefined,
            sharedLabels: s.labels,
          },
        );
      }
      return { name, help: this.names.durationHelp, type: 'histogram', values, aggregator: 'sum' };
    };
    return {
      name,
      help: this.names.durationHelp,
      type: 'histogram',
      aggregator: 'sum',
      getForPromString: async () => forPromString(),
      // prom-client's JSON form: the shared labels folded into each value's own.
      get: async () => {
        const d = forPromString();
        d.values = d.values.map(({ sharedLabels, labels, ...rest }) => ({
          ...rest,
          labels: { ...labels, ...sharedLabels },
        }));
        return d;
      },
      reset: () => this.reset(),
    };
  }
}
