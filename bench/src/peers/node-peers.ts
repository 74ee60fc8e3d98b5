// The Node peers run small plain-JS scripts (see scripts/) so the measured process is only the proxy.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../proc/registry.js';
import { launch, prepare } from './launch.js';
import { upstreamPort, type Peer, type RunContext, type SystemSpec } from './types.js';

const scripts = fileURLToPath(new URL('./scripts/', import.meta.url));

function tlsArg(ctx: RunContext, spec: SystemSpec): { cert: string; key: string } | undefined {
  return spec.tls ? { cert: ctx.certs[spec.tls].certFile, key: ctx.certs[spec.tls].keyFile } : undefined;
}

function notHttp2OrRoutes(spec: SystemSpec): string | undefined {
  if (spec.http2) return 'no HTTP/2 listener';
  if (spec.routes !== undefined) return 'route tables are compared between gatehouse and nginx only';
  return undefined;
}

export const httpProxy3Peer: Peer = {
  name: 'http-proxy-3',
  async unavailable(ctx) {
    return existsSync(join(ctx.repoRoot, 'bench/node_modules/http-proxy-3'))
      ? undefined
      : 'http-proxy-3 missing: run pnpm install';
  },
  unsupported: notHttp2OrRoutes,
  async start(ctx, spec) {
    const { port } = await prepare(ctx, 'http-proxy-3');
    const cfg = {
      port,
      target: `http://127.0.0.1:${upstreamPort(ctx, spec)}`,
      tls: tlsArg(ctx, spec),
      ws: spec.websocket === true,
    };
    return launch('http-proxy-3', spec, port, process.execPath, [
      join(scripts, 'http-proxy-3.mjs'),
      JSON.stringify(cfg),
    ]);
  },
};

const MGW_VERSION = '3.3.7';

function mgwDir(ctx: RunContext): string {
  return join(ctx.repoRoot, 'bench/.peers');
}

export const microgatewayPeer: Peer = {
  name: 'microgateway-core',
  async unavailable(ctx) {
    const pkg = join(mgwDir(ctx), 'node_modules/microgateway-core/package.json');
    if (existsSync(pkg)) return undefined;
    if (!ctx.mayInstall)
      return `not installed (a --full run installs it, or: npm i --prefix bench/.peers microgateway-core@${MGW_VERSION})`;
    ctx.log(`installing microgateway-core@${MGW_VERSION} into bench/.peers (about 20 s)…`);
    const r = await runToEnd(
      'npm-install',
      'npm',
      ['i', '--prefix', mgwDir(ctx), '--no-audit', '--no-fund', `microgateway-core@${MGW_VERSION}`],
      'none',
      180000,
    );
    return existsSync(pkg)
      ? undefined
      : `npm install failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`;
  },
  unsupported: (spec) =>
    spec.websocket ? 'microgateway-core does not proxy WebSocket upgrades' : notHttp2OrRoutes(spec),
  async start(ctx, spec) {
    const { dir, port } = await prepare(ctx, 'microgateway-core');
    const cfg = {
      port,
      target: `http://127.0.0.1:${ctx.originPort}`,
      modulePath: join(mgwDir(ctx), 'package.json'),
      logDir: join(dir, 'logs'),
      tls: tlsArg(ctx, spec),
    };
    return launch(
      'microgateway-core',
      spec,
      port,
      process.execPath,
      [join(scripts, 'microgateway.mjs'), JSON.stringify(cfg)],
      {
        startTimeoutMs: 30000,
      },
    );
  },
};
