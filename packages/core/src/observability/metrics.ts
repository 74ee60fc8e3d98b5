// Engine metrics in a prom-client registry owned by each engine instance. Label children are
// cached per route so a request costs two counter increments and one histogram observation.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import * as prom from './prom-client.js';
import type { CompiledRoute, CompiledServer } from '../config/compile.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

interface RouteChildren {
  requests: Counter.Internal[];
  duration: Array<Histogram.Internal<'server' | 'route' | 'status_class'>>;
}

export class EngineMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'server' | 'route' | 'status_class'>;
  private readonly duration: Histogram<'server' | 'route' | 'status_class'>;
  readonly upstreamErrors: Counter<'kind'>;
  readonly openConnections: Gauge<'listener'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly reloads: Counter<'result'>;
  private readonly children = new WeakMap<CompiledRoute, RouteChildren>();

  constructor(registry: Registry = new prom.Registry(), options: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    if (options.defaultMetrics !== false) prom.collectDefaultMetrics(registry, 'gatehouse_process_');
    this.requests = new prom.Counter({
      name: 'gatehouse_requests_total',
      help: 'Requests answered, by server, route and status class',
      labelNames: ['server', 'route', 'status_class'],
      registers: [registry],
    });
    this.duration = new prom.Histogram({
      name: 'gatehouse_request_duration_seconds',
      help: 'Time from request arrival to the end of the response',
      labelNames: ['server', 'route', 'status_class'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
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
      this.requests.inc({ server: server?.name ?? '', route: '', status_class: CLASSES[cls] });
      this.duration.observe({ server: server?.name ?? '', route: '', status_class: CLASSES[cls] }, seconds);
      return;
    }
    let c = this.children.get(route);
    if (!c) {
      c = {
        requests: CLASSES.map((k) => this.requests.labels(server.name, route.name, k)),
        duration: CLASSES.map((k) => this.duration.labels(server.name, route.name, k)),
      };
      this.children.set(route, c);
    }
    c.requests[cls]!.inc();
    c.duration[cls]!.observe(seconds);
  }
}
