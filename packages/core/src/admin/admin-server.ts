// The admin listener (off unless configured, loopback by default): Prometheus metrics and the
// liveness/readiness probes orchestrators expect.
import http from 'node:http';
import type { AdminConfig } from '../config/types.js';

export interface AdminServer {
  address(): { address: string; port: number };
  close(): Promise<void>;
}

/** What the admin listener reads from the engine (the Gatehouse passes itself): declared here, so
 *  this module does not import the engine that starts it. */
export interface AdminEngine {
  metricsText(): Promise<string>;
  readonly registry: { readonly contentType: string };
  addresses(): readonly unknown[];
  readonly isClosing: boolean;
  readonly snapshot: { readonly generation: number };
}

export async function startAdminServer(config: AdminConfig, engine: AdminEngine): Promise<AdminServer> {
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      return void res.end(JSON.stringify({ error: 'method_not_allowed', status: 405 }));
    }
    if (path === '/metrics') {
      engine.metricsText().then(
        (text) => {
          res.writeHead(200, { 'content-type': engine.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal_error', message: err.message, status: 500 }));
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ status: 'ok' }));
    }
    if (path === '/readyz') {
      const ready = engine.addresses().length > 0 && !engine.isClosing;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ status: ready ? 'ready' : 'not_ready', generation: engine.snapshot.generation }),
      );
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found', status: 404 }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: config.address ?? '127.0.0.1', port: config.port }, () => resolve());
  });
  return {
    address() {
      const a = server.address();
      return typeof a === 'object' && a ? { address: a.address, port: a.port } : { address: '', port: 0 };
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
