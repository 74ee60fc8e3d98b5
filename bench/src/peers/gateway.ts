// The gateway (packages/gateway) as edgemicro users run it: `edgemicro start` in standalone mode on
// an edgemicro config file, one worker (`-p 1`): the master and its worker are one process tree,
// pinned and measured together (the master's CPU counts). One proxy at base path `/` to the origin
// and the header options of the microgateway-core peer, so the two compare like with like.
//   - bare: no plugins in the sequence (issue 24's "gateway with no plugins");
//   - oauth-quota: `oauth` (API key in x-api-key, verified once against the standalone apps, then
//     cached) and `quota` on every request, with a quota too large to trip (issue 25).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, runningSystem, startProxyProcess } from './launch.js';
import type { RunContext, RunningSystem, StartSystem, SystemSpec } from './types.js';

export type GatewayPlugins = 'bare' | 'oauth-quota';

/** The API key the oauth-quota scenario sends (an app's key in the standalone file). */
export const GATEWAY_BENCH_KEY = 'bench-key-0123456789abcdef';

const ORG = 'bench';
const ENV = 'bench';

function gatewayCliPath(ctx: RunContext): string {
  return join(ctx.repoRoot, 'packages/gateway/dist/cli/main.js');
}

/** `<org>-<env>-config.yaml`: JSON is YAML, and nothing here needs env tags. */
export function gatewayConfig(
  port: number,
  logDir: string,
  plugins: GatewayPlugins,
): Record<string, unknown> {
  return {
    edgemicro: {
      port,
      address: '127.0.0.1',
      max_connections: 20000,
      keep_alive_timeout: 120000,
      logging: { level: 'error', dir: logDir, to_console: false },
      plugins: { sequence: plugins === 'bare' ? [] : ['oauth', 'quota'] },
    },
    headers: {
      'x-forwarded-for': true,
      'x-forwarded-host': true,
      'x-request-id': true,
      'x-response-time': true,
      via: true,
    },
    ...(plugins === 'oauth-quota'
      ? { oauth: { allowNoAuthorization: false, allowInvalidAuthorization: false } }
      : {}),
  };
}

/** The standalone file: the proxy, and for oauth-quota a product with a quota that never trips. */
export function gatewayStandalone(originPort: number): Record<string, unknown> {
  return {
    proxies: [{ name: 'edgemicro_bench', base_path: '/', url: `http://127.0.0.1:${originPort}/` }],
    products: [
      {
        name: 'bench-product',
        apiResources: ['/', '/**'],
        proxies: ['edgemicro_bench'],
        quota: { allow: 1_000_000_000, interval: 1, timeUnit: 'minute' },
      },
    ],
    apps: [
      {
        name: 'bench-app',
        developer_email: 'bench@example.com',
        products: ['bench-product'],
        credentials: [{ key: GATEWAY_BENCH_KEY, secret: 'bench-secret-0123456789abcdef' }],
      },
    ],
  };
}

export function startGateway(plugins: GatewayPlugins): StartSystem {
  return async (ctx: RunContext, spec: SystemSpec): Promise<RunningSystem> => {
    const cli = gatewayCliPath(ctx);
    if (!existsSync(cli)) throw new Error('packages/gateway/dist/cli/main.js missing (run pnpm build)');
    const { dir, port } = await prepare(ctx, 'gatehouse');
    const logDir = join(dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(
      join(dir, `${ORG}-${ENV}-config.yaml`),
      JSON.stringify(gatewayConfig(port, logDir, plugins)),
    );
    const standalone = join(dir, 'standalone.yaml');
    writeFileSync(standalone, JSON.stringify(gatewayStandalone(ctx.originPort)));
    const args = [cli, 'start', '-o', ORG, '-e', ENV, '-c', dir, '--standalone', standalone, '-p', '1'];
    // cwd: the control socket and pid file (edgemicro.sock/.pid) go to the run's dir.
    const proc = await startProxyProcess('gatehouse', port, process.execPath, args, {
      cwd: dir,
      startTimeoutMs: 30000,
    });
    return runningSystem('gatehouse', port, spec.tls ? 'https' : 'http', [proc]);
  };
}
