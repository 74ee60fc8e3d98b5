// Shared start-up: create the system's config dir, start the process on the proxy core, wait for its
// port, and turn an early exit into an error that carries the process's own output.
import { mkdirSync } from 'node:fs';
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

export async function launch(
  name: SystemName,
  spec: SystemSpec,
  port: number,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; startTimeoutMs?: number } = {},
): Promise<RunningSystem> {
  const proc: Started = start(name, cmd, args, 'proxy', {
    env: opts.env ?? process.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (!(await waitForPort(port, opts.startTimeoutMs ?? 20000, () => isAlive(proc)))) {
    await stop(proc);
    const out = (proc.stderr() + '\n' + proc.stdout()).trim().split('\n').slice(-8).join('\n');
    throw new Error(`${name} did not start listening on ${port}: ${out}`);
  }
  return { name, port, scheme: spec.tls ? 'https' : 'http', proc };
}
