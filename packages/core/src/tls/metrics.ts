// Certificate metrics: seconds to expiry of each loaded certificate (computed at scrape time) and reloads.
import type { Registry } from 'prom-client';
import { Counter, Gauge } from '../observability/prom-client.js';
import type {
  CertificateRejectedEvent,
  CertificateStore,
  CertificateUpdatedEvent,
} from './certificate-store.js';

export interface TlsMetrics {
  /** Reports the certificates of `store` until the returned function is called. */
  track(store: CertificateStore): () => void;
}

// One set of metrics per registry: the lead creates a registry per engine instance, and
// prom-client refuses to register a name twice in one registry.
const byRegistry = new WeakMap<Registry, TlsMetrics>();

export function registerTlsMetrics(registry: Registry): TlsMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;

  const stores = new Set<CertificateStore>();
  new Gauge({
    name: 'gatehouse_certificate_expiry_seconds',
    help: 'Seconds until the certificate expires (negative once expired).',
    labelNames: ['name', 'subject', 'sans'] as const,
    registers: [registry],
    // Workers load the same certificates: over a cluster, the soonest expiry, not a sum.
    aggregator: 'min',
    collect() {
      this.reset();
      const now = Date.now();
      for (const store of stores) {
        for (const { info } of store.entries()) {
          const sans = [...info.dnsNames, ...info.ipAddresses].join(',');
          this.set({ name: info.name, subject: info.subject, sans }, (info.notAfter.getTime() - now) / 1000);
        }
      }
    },
  });
  const reloads = new Counter({
    name: 'gatehouse_certificate_reloads_total',
    help: 'Certificate reloads (file changes and programmatic updates), by result.',
    labelNames: ['name', 'result'] as const,
    registers: [registry],
  });

  const metrics: TlsMetrics = {
    track(store) {
      stores.add(store);
      // Series exist at zero from the start so that alerts on increase() work on the first failure.
      for (const name of store.names()) {
        reloads.inc({ name, result: 'success' }, 0);
        reloads.inc({ name, result: 'failure' }, 0);
      }
      const onUpdated = (e: CertificateUpdatedEvent) => {
        if (!e.initial) reloads.inc({ name: e.name, result: 'success' });
      };
      const onRejected = (e: CertificateRejectedEvent) => {
        if (!e.initial) reloads.inc({ name: e.name, result: 'failure' });
      };
      store.on('updated', onUpdated);
      store.on('rejected', onRejected);
      return () => {
        stores.delete(store);
        store.off('updated', onUpdated);
        store.off('rejected', onRejected);
      };
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
