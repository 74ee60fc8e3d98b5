// Engine metrics in a prom-client registry owned by each engine instance. The per-request ones are
// plain counters per route and status class (route-metrics.ts), found once per route, so a request
// costs a few additions.
import type { Counter, Gauge, Registry } from 'prom-client';
import * as prom from './prom-client.js';
import { RouteMetrics, type RouteSeries } from './route-metrics.js';
import type { CompiledRoute, CompiledServer } from '../config/compile.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A route's series by status class, each made at its first request (the order prom-client printed). */
type RouteChildren = Array<RouteSeries | undefined>;

export class EngineMetrics {
  readonly registry: Registry;
  private readonly perRoute: RouteMetrics;
  readonly upstreamErrors: Counter<'kind'>;
  readonly openConnections: Gauge<'listener'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly reloads: Counter<'result'>;
  readonly droppedFields: Counter<'server' | 'reason'>;
  private readonly children = new WeakMap<CompiledRoute, RouteChildren>();

  constructor(registry: Registry = new prom.Registry(), options: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    if (options.defaultMetrics !== false) prom.collectDefaultMetrics(registry, 'gatehouse_process_');
    this.perRoute = new RouteMetrics(
      registry,
      {
        requests: 'gatehouse_requests_total',
        requestsHelp: 'Requests answered, by server, route and status class',
        duration: 'gatehouse_request_duration_seconds',
        durationHelp: 'Time from request arrival to the end of the response',
      },
      DURATION_BUCKETS,
    );
    this.upstreamErrors = new prom.Counter({
      name: 'gatehouse_upstream_errors_total',
      help: 'Upstream failures by kind (error code)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.openConnections = new prom.Gauge({
      name: 'gatehouse_open_connections',
      help: 'Open client connections per listener',
      labelNames: ['listener'],
      registers: [registry],
    });
    this.bytesIn = new prom.Counter({
      name: 'gatehouse_bytes_received_total',
      help: 'Bytes received from clients',
      registers: [registry],
    });
    this.bytesOut = new prom.Counter({
      name: 'gatehouse_bytes_sent_total',
      help: 'Bytes sent to clients',
      registers: [registry],
    });
    this.droppedFields = new prom.Counter({
      name: 'gatehouse_request_fields_dropped_total',
      help: 'Request header fields not forwarded upstream, by server and reason',
      labelNames: ['server', 'reason'],
      registers: [registry],
    });
    this.reloads = new prom.Counter({
      name: 'gatehouse_config_reloads_total',
      help: 'Configuration reloads by result',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  /** Record one finished request. */
  observe(
    server: CompiledServer | undefined,
    route: CompiledRoute | undefined,
    status: number,
    seconds: number,
  ): void {
    const cls = status >= 100 && status < 600 ? ((status / 100) | 0) - 1 : 4;
    if (!route || !server) {
      this.perRoute
        .get({ server: server?.name ?? '', route: '', status_class: CLASSES[cls] })
        .observe(seconds);
      return;
    }
    let c = this.children.get(route);
    if (!c) this.children.set(route, (c = []));
    let series = c[cls];
    if (!series) {
      series = this.perRoute.get({ server: server.name, route: route.name, status_class: CLASSES[cls] });
      c[cls] = series;
    }
    series.observe(seconds);
  }
}
