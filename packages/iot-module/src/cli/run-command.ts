// `iot-module run`: the module. Reads the IoT Edge environment (IOTEDGE_*), the template (packaged
// default or --template) and the GATEHOUSE_* settings below, serves until SIGTERM/SIGINT, then drains.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseSize } from '../nginx/index.js';
import { IotModule, ModuleEnvironmentError, type IotModuleOptions } from '../runtime/iot-module.js';
import { createModuleLogger } from '../runtime/module-logger.js';

export const RUN_ENV_HELP = `environment of run (besides the IOTEDGE_* variables the runtime sets):
  GATEHOUSE_ADMIN_PORT        health (/healthz, /readyz) and /metrics port (default 9602; 0 = off)
  GATEHOUSE_ADMIN_ADDRESS     its address (default 127.0.0.1)
  GATEHOUSE_LISTEN_ADDRESS    address bound for "listen PORT" (default 0.0.0.0)
  GATEHOUSE_HOSTS             name=address,... used instead of DNS for upstream names
  GATEHOUSE_MAX_BODY_SIZE     body limit where client_max_body_size is unset (default 1m)
  GATEHOUSE_TOKEN_SERVER_PORT token server port (default 6001, TOKEN_SERVER_PORT)
  GATEHOUSE_DRAIN_TIMEOUT_MS  how long SIGTERM lets transfers finish (default 30000)
  GATEHOUSE_TRUST_BUNDLE_POLL_MS  trust bundle poll interval (default 60000)
  GATEHOUSE_LOG_LEVEL         trace|debug|info|warn|error (default info)`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

function intEnv(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}: expected a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function hostsEnv(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const [name, address] = pair.split('=').map((s) => s.trim());
    if (!name || !address) throw new Error(`GATEHOUSE_HOSTS: expected name=address pairs, got "${pair}"`);
    out[name] = address;
  }
  return out;
}

/** Options of the module from the environment and the flags; throws with a message naming the setting. */
function runOptionsFrom(
  env: Readonly<Record<string, string | undefined>>,
  flags: { template?: string; confDir?: string; maxBodySize?: string },
): IotModuleOptions {
  const maxBody = flags.maxBodySize ?? env.GATEHOUSE_MAX_BODY_SIZE;
  let defaultMaxBodySize: number | undefined;
  if (maxBody !== undefined && maxBody !== '') {
    defaultMaxBodySize = parseSize(maxBody);
    if (defaultMaxBodySize === undefined) throw new Error(`invalid body size "${maxBody}"`);
  }
  const adminPort = intEnv(env, 'GATEHOUSE_ADMIN_PORT', 9602);
  const hosts = hostsEnv(env.GATEHOUSE_HOSTS);
  const template = flags.template
    ? { text: readFileSync(resolve(flags.template), 'utf8'), file: basename(flags.template) }
    : undefined;
  return {
    env,
    confDir: resolve(flags.confDir ?? '/app'),
    ...(template ? { template } : {}),
    ...(hosts ? { hosts } : {}),
    ...(env.GATEHOUSE_LISTEN_ADDRESS ? { listenAddress: env.GATEHOUSE_LISTEN_ADDRESS } : {}),
    ...(defaultMaxBodySize !== undefined ? { defaultMaxBodySize } : {}),
    ...(adminPort > 0
      ? {
          admin: {
            port: adminPort,
            ...(env.GATEHOUSE_ADMIN_ADDRESS ? { address: env.GATEHOUSE_ADMIN_ADDRESS } : {}),
          },
        }
      : {}),
    tokenServerPort: intEnv(env, 'GATEHOUSE_TOKEN_SERVER_PORT', 6001),
    drainTimeoutMs: intEnv(env, 'GATEHOUSE_DRAIN_TIMEOUT_MS', 30_000),
    trustBundlePollMs: intEnv(env, 'GATEHOUSE_TRUST_BUNDLE_POLL_MS', 60_000),
    logger: createModuleLogger(undefined, env.GATEHOUSE_LOG_LEVEL || 'info'),
  };
}

/** Runs until SIGTERM/SIGINT; resolves with the exit status. */
export async function runCommand(
  env: Readonly<Record<string, string | undefined>>,
  flags: { template?: string; confDir?: string; maxBodySize?: string },
  io: Io,
): Promise<number> {
  let module: IotModule;
  try {
    module = new IotModule(runOptionsFrom(env, flags));
  } catch (err) {
    io.err(`iot-module: ${(err as Error).message}\n`);
    return err instanceof ModuleEnvironmentError ? 1 : 2;
  }
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    module.logger.info({ signal }, 'stopping: draining in-flight requests');
    stopping ??= module.close();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await module.start();
  } catch (err) {
    module.logger.fatal({ err: err as Error }, 'cannot start');
    io.err(`iot-module: ${(err as Error).message}\n`);
    await module.close();
    return 1;
  }
  await new Promise<void>((resolveStop) => {
    const check = setInterval(() => {
      if (stopping) {
        clearInterval(check);
        void stopping.then(() => resolveStop());
      }
    }, 100);
  });
  module.logger.info('stopped');
  return 0;
}
