// The system under test: our engine's CLI, started as its own process from the built dist/.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatehouseConfig, RouteConfig } from '../../../packages/core/src/config/types.js';
import { launch, prepare } from './launch.js';
import { routePath, upstreamPort, type Peer, type RunContext, type SystemSpec } from './types.js';

export function cliPath(ctx: RunContext): string {
  return join(ctx.repoRoot, 'packages/core/dist/cli/main.js');
}

export function gatehouseConfig(ctx: RunContext, port: number, spec: SystemSpec): GatehouseConfig {
  const action = { type: 'proxy', upstream: 'origin' } as const;
  const routes: RouteConfig[] =
    spec.routes === undefined
      ? [{ match: { prefix: '/' }, action }]
      : Array.from({ length: spec.routes }, (_, i) => ({ match: { prefix: routePath(i) }, action }));
  const tls = spec.tls;
  return {
    servers: [
      {
        listen: [{ address: '127.0.0.1', port, ...(tls ? { tls: true, http2: spec.http2 === true } : {}) }],
        ...(tls
          ? {
              tls: {
                certificate: { certFile: ctx.certs[tls].certFile, keyFile: ctx.certs[tls].keyFile },
                minVersion: 'TLSv1.2' as const,
                watch: false,
              },
            }
          : {}),
        routes,
      },
    ],
    upstreams: { origin: { url: `http://127.0.0.1:${upstreamPort(ctx, spec)}` } },
    // Idle keep-alive connections must survive the idle-connection scenario, like the peers'.
    limits: { maxConnections: 20000, keepAliveTimeoutMs: 120000 },
    log: { level: 'warn' },
  };
}

export const gatehousePeer: Peer = {
  name: 'gatehouse',
  async unavailable(ctx) {
    return existsSync(cliPath(ctx)) ? undefined : 'packages/core/dist/cli/main.js missing (run pnpm build)';
  },
  unsupported() {
    return undefined;
  },
  async start(ctx, spec, hook) {
    const { dir, port } = await prepare(ctx, 'gatehouse');
    let config = gatehouseConfig(ctx, port, spec);
    if (hook) config = hook(config, ctx);
    const file = join(dir, 'gatehouse.json');
    writeFileSync(file, JSON.stringify(config, null, 1));
    return launch('gatehouse', spec, port, process.execPath, [cliPath(ctx), 'serve', '--config', file], {
      cwd: ctx.repoRoot,
    });
  },
};
