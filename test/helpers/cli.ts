// Command lines run from source in child processes: `gatehouse serve`, and any TypeScript entry
// whose output a test waits on (the gateway's `edgemicro`).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { teeChildOutput } from './log-tee.js';

/** The CLI entry, run from source. */
export const CLI = join(import.meta.dirname, '../../packages/core/src/cli/main.ts');

/** Run `gatehouse serve --config <file>` in a child process; resolves once it logs its listening port
 *  (the config must log at info level). The caller kills it. */
export function spawnServe(
  file: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--config', file],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      teeChildOutput(c);
      out += c;
      const m = /"port":(\d+).*"msg":"listening"/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on('exit', () => reject(new Error(`gatehouse exited early: ${out}`)));
  });
}

export interface WatchedProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Resolves the first match of `re` in the output; rejects on timeout or when the process exits
   *  without it. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

// Resolved here: a child may run in a temporary directory where `tsx` would not resolve.
const TSX = import.meta.resolve('tsx');

/** Run a TypeScript entry from source (`node --conditions=source --import tsx <entry> …args`). */
export function spawnWatched(
  entry: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): WatchedProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, entry, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer): void => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in:\n${out}`)),
          timeoutMs,
        );
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            return resolve(m[0]);
          }
          waiters.push(check);
        };
        void exited.then(() => {
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`exited before ${re}:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** Run a TypeScript entry to completion; resolves its exit code and output. */
export async function runToExit(
  entry: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; out: string }> {
  const p = spawnWatched(entry, args, options);
  const code = await p.exited;
  return { code, out: p.output() };
}
