// The `gatehouse` command line run from source in a child process.
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
