// The real engine with the built-in plugins: an echo upstream, one basePath route per edgemicro
// proxy, plugins resolved the way the runtime resolves `plugins.sequence` (built-ins first, then a
// custom folder). Everything listens on 127.0.0.1 and is closed by the caller.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatehouse, createPluginPipeline, loadPlugins, type Gatehouse } from '@gatehouse/core';
import { builtinPlugins, type GatewayPluginContext } from '../../../src/plugins/registry.js';
// Test-only: the suite's trace-level log tee, so the secret sweep reads what these engines log.
import { createLogger } from '../../../../core/src/observability/logger.js';
import { teeDestination, teeLevel } from '../../../../../test/helpers/log-tee.js';

export interface Seen {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Upstream {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** Echoes method, url and headers as JSON. */
export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const body = JSON.stringify({ url: req.url, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface GatewayRoute {
  /** edgemicro proxy name (the route's name, `res.proxy.name`). */
  readonly name: string;
  readonly basePath: string;
  readonly plugins: readonly string[];
}

export interface Gateway {
  readonly gh: Gatehouse;
  readonly port: number;
  close(): Promise<void>;
}

export async function startGateway(
  upstreamPort: number,
  routes: readonly GatewayRoute[],
  ctx: GatewayPluginContext,
  pluginDir?: string,
  port = 0,
): Promise<Gateway> {
  const logger = createLogger({ level: teeLevel('silent') }, teeDestination('silent'));
  const sequence = [...new Set(routes.flatMap((r) => r.plugins))];
  const plugins = await loadPlugins({
    sequence,
    builtins: Object.fromEntries(builtinPlugins(ctx)),
    config: ctx.config,
    logger,
    dir: pluginDir,
  });
  // The pipeline goes in at creation: core refuses a config naming plugins it cannot run.
  const gh = createGatehouse({
    logger,
    pipeline: createPluginPipeline({ plugins, logger, hookTimeoutMs: 5000 }),
    accessLogStream: teeDestination('trace'),
    config: {
      log: { level: 'silent', access: true },
      upstreams: { up: { url: `http://127.0.0.1:${upstreamPort}` } },
      servers: [
        {
          listen: [{ address: '127.0.0.1', port }],
          routes: routes.map((r) => ({
            name: r.name,
            match: { basePath: r.basePath },
            action: { type: 'proxy' as const, upstream: 'up' },
            plugins: [...r.plugins],
          })),
        },
      ],
    },
  });
  await gh.start();
  return { gh, port: gh.addresses()[0]!.port, close: () => gh.close(1000) };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a fresh connection; `path` is sent exactly as given. */
export function request(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}
