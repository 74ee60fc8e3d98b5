// Every process the harness starts is registered here so it can be killed by PID at the end, on Ctrl-C
// or on an error. Children are started in their own process group (detached) so that killing the
// group leader's group also ends nginx/haproxy workers; we only ever signal groups we created.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Started {
  pid: number;
  child: ChildProcess;
  name: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
}

const live = new Map<number, Started>();
let coreCount = 1;

export function setCoreCount(n: number): void {
  coreCount = n;
}

/** Which core a role runs on: the proxy alone on core 1, everything else on core 0 (when ≥ 2 cores). */
export type Role = 'proxy' | 'load' | 'none';

/** Keep the last `max` characters of a stream for error messages. */
function capture(stream: NodeJS.ReadableStream | null, max = 64 * 1024): () => string {
  let buf = '';
  stream?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    if (buf.length > max * 2) buf = buf.slice(-max);
  });
  return () => buf;
}

export function start(
  name: string,
  cmd: string,
  args: string[],
  role: Role,
  opts: SpawnOptions & { nofile?: number } = {},
): Started {
  // `exec` keeps the PID: bash → taskset → the program itself.
  const pin = coreCount >= 2 && role !== 'none' ? ['taskset', '-c', role === 'proxy' ? '1' : '0'] : [];
  const nofile = opts.nofile ?? 20000;
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"`;
  const child = spawn('bash', ['-c', script, 'bash', ...pin, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...opts,
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name}`);
  const pid = child.pid;
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(pid);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const s: Started = {
    pid,
    child,
    name,
    exited,
    stdout: capture(child.stdout),
    stderr: capture(child.stderr),
  };
  live.set(pid, s);
  return s;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM the process group, SIGKILL it if it is still there after `graceMs`. */
export async function stop(s: Started, graceMs = 3000): Promise<void> {
  if (!live.has(s.pid)) return;
  signalGroup(s.pid, 'SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([s.exited, timer])) === 'timeout') {
    signalGroup(s.pid, 'SIGKILL');
    await Promise.race([s.exited, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live.values()].map((s) => stop(s)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every group still registered. */
export function killAllNow(): void {
  for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
  live.clear();
}

/** Run a command to completion (bounded by `timeoutMs`) and return its output. */
export async function runToEnd(
  name: string,
  cmd: string,
  args: string[],
  role: Role,
  timeoutMs: number,
  opts: SpawnOptions & { nofile?: number } = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const s = start(name, cmd, args, role, opts);
  const timer = setTimeout(() => void stop(s, 1000), timeoutMs);
  const code = await s.exited;
  clearTimeout(timer);
  return { code, stdout: s.stdout(), stderr: s.stderr() };
}

export function isAlive(s: Started): boolean {
  return live.has(s.pid);
}
