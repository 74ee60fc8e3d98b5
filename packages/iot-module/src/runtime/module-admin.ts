// The module's admin listener: /healthz (the process is alive), /readyz (200 once the proxy serves,
// else 503 naming what it waits for), /metrics (the module's series, then the engine's). Up before
// anything else, so an orchestrator sees "not ready" rather than nothing while the runtime is absent.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IotModule } from './iot-module.js';

export interface ModuleAdmin {
  address(): { address: string; port: number };
  close(): Promise<void>;
}

function moduleMetrics(m: IotModule): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number, type = 'gauge'): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  gauge('gatehouse_iot_ready', '1 when the proxy serves.', m.notReadyReason === undefined ? 1 : 0);
  gauge('gatehouse_iot_twin_connected', '1 while the module twin connection is up.', m.twinConnected ? 1 : 0);
  gauge('gatehouse_iot_config_applied_total', 'Configurations applied.', m.counters.applied, 'counter');
  gauge(
    'gatehouse_iot_config_rejected_total',
    'Configurations rejected (the running one kept).',
    m.counters.rejected,
    'counter',
  );
  gauge(
    'gatehouse_iot_server_certificate_rotations_total',
    'Server certificates renewed.',
    m.counters.certificateRotations,
    'counter',
  );
  gauge(
    'gatehouse_iot_trust_bundle_updates_total',
    'Trust bundle changes applied.',
    m.counters.trustBundleUpdates,
    'counter',
  );
  const expiry = m.serverCertificateExpiry;
  if (expiry)
    gauge(
      'gatehouse_iot_server_certificate_expiry_seconds',
      'Expiry of the served certificate (unix time).',
      Math.floor(expiry.getTime() / 1000),
    );
  lines.push(
    '# HELP gatehouse_iot_workload_calls_total Workload API calls.',
    '# TYPE gatehouse_iot_workload_calls_total counter',
  );
  const c = m.workload.calls;
  for (const [call, n] of [
    ['trust_bundle', c.trustBundle],
    ['server_certificate', c.serverCertificate],
    ['sign', c.sign],
  ] as const)
    lines.push(`gatehouse_iot_workload_calls_total{call="${call}"} ${n}`);
  gauge('gatehouse_iot_workload_errors_total', 'Workload API calls that failed.', c.errors, 'counter');
  return `${lines.join('\n')}\n`;
}

export async function startModuleAdmin(
  m: IotModule,
  opts: { address?: string; port: number },
): Promise<ModuleAdmin> {
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, {
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method_not_allowed"}');
    if (path === '/healthz') return send(200, '{"status":"alive"}');
    if (path === '/readyz') {
      const reason = m.notReadyReason;
      const body = {
        ready: reason === undefined,
        ...(reason !== undefined ? { reason } : {}),
        twinConnected: m.twinConnected,
        config: m.configState ?? null,
        lastError: m.error,
        serverCertificateExpiry: m.serverCertificateExpiry?.toISOString() ?? null,
      };
      return send(reason === undefined ? 200 : 503, JSON.stringify(body));
    }
    if (path === '/metrics') {
      const engine = m.gatehouse;
      void (engine ? engine.registry.metrics() : Promise.resolve('')).then(
        (text) => send(200, moduleMetrics(m) + text, 'text/plain; version=0.0.4'),
        () => send(200, moduleMetrics(m), 'text/plain; version=0.0.4'),
      );
      return;
    }
    send(404, '{"error":"not_found"}');
  });
  server.listen(opts.port, opts.address ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    address: () => {
      const a = server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
