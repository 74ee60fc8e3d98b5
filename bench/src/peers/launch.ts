// Shared start-up: create the system's config dir, start the process on the proxy core, wait for its
// port, and turn an early exit into an error that carries the process's own output. A system may be
// several such processes (the layers of a chain); they are started in order and stopped together.
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../proc/ports.js';
import { start, stop, isAlive, type Started } from '../proc/registry.js';
import type { RunContext, RunningSystem, SystemName, SystemSpec } from './types.js';

let seq = 0;

export async function prepare(ctx: RunContext, name: SystemName): Promise<{ dir: string; port: number }> {
  const dir = join(ctx.dir, `${name}-${++seq}`);
  mkdirSync(dir, { recursive: true });
  return { dir, port: await freePort() };
}

export interface ProxyProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  startTimeoutMs?: number;
  /**
   * Send the process's stdout to this file instead of a pipe (for configs that log to /dev/stdout:
   * nginx cannot open a socket as a file, and a file keeps the harness out of the log path).
   */
  stdoutFile?: string;
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Start one process of a system on the proxy core and wait until it listens on `port`. */
export async function startProxyProcess(
  label: string,
  port: number,
  cmd: string,
  args: string[],
  opts: ProxyProcessOptions = {},
): Promise<Started> {
  const stdoutFd = opts.stdoutFile === undefined ? undefined : openSync(opts.stdoutFile, 'a');
  let proc: Started;
  try {
    proc = start(label, cmd, args, 'proxy', {
      env: opts.env ?? process.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(stdoutFd !== undefined ? { stdio: ['ignore', stdoutFd, 'pipe'] } : {}),
    });
  } finally {
    // The child holds its own copy of the descriptor.
    if (stdoutFd !== undefined) closeSync(stdoutFd);
  }
  if (!(await waitForPort(port, opts.startTimeoutMs ?? 20000, () => isAlive(proc)))) {
    await stop(proc);
    const stdout = opts.stdoutFile === undefined ? proc.stdout() : readFileSync(opts.stdoutFile, 'utf8');
    throw new Error(`${label} did not start listening on ${port}: ${tail(proc.stderr() + '\n' + stdout)}`);
  }
  return proc;
}

/** A running system made of these processes; `stop` ends them in reverse start order. */
export function runningSystem(
  name: SystemName,
  port: number,
  scheme: 'http' | 'https',
  procs: readonly Started[],
  after?: () => Promise<void>,
): RunningSystem {
  return {
    name,
    port,
    scheme,
    procs,
    async stop() {
      for (const p of [...procs].reverse()) await stop(p);
      await after?.();
    },
  };
}

/** The usual system: one proxy process. */
export async function launch(
  name: SystemName,
  spec: SystemSpec,
  port: number,
  cmd: string,
  args: string[],
  opts: ProxyProcessOptions = {},
): Promise<RunningSystem> {
  const proc = await startProxyProcess(name, port, cmd, args, opts);
  return runningSystem(name, port, spec.tls ? 'https' : 'http', [proc]);
}
