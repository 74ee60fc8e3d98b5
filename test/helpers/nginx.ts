// Run Debian nginx on a complete configuration text in a temporary prefix directory, for differential
// tests: `nginx -t` first (its message is the error), then the master in the foreground, stopped by
// its PID. Tests skip when nginx is not on PATH.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Why nginx cannot be used here, or undefined when it can. */
export function nginxUnavailable(): string | undefined {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return 'nginx is not on PATH (apt-get install nginx) — differential test skipped';
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'nginx oracle needs root (its config says `user root;`) — differential test skipped';
  return undefined;
}

export interface NginxProcess {
  pid: number;
  dir: string;
  errorLog(): string;
  close(): Promise<void>;
}

export interface StartNginxOptions {
  /** The complete nginx.conf text. */
  conf: string;
  /** Files copied next to nginx.conf (certificates referenced by relative path). */
  files?: string[];
  /** Time allowed for start-up. Default 5000 ms. */
  startTimeoutMs?: number;
}

/** Start nginx; resolves once its pid file exists (written after every listener is bound). */
export async function startNginx(options: StartNginxOptions): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  for (const sub of ['logs', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  for (const f of options.files ?? []) copyFileSync(f, join(dir, basename(f)));
  writeFileSync(join(dir, 'nginx.conf'), options.conf);
  const pidFile = join(dir, 'nginx.pid');
  const base = ['-p', `${dir}/`, '-c', 'nginx.conf', '-e', join(dir, 'logs/error.log')];
  const args = [...base, '-g', `pid ${pidFile}; daemon off;`];
  // `nginx -t` writes its own pid file: give it another path, so that the real one signals readiness.
  const testArgs = [...base, '-g', `pid ${join(dir, 'test.pid')}; daemon off;`];
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'logs/error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  // `/dev/stdout` in a config (the IoT template logs there) must be a file: node's pipes are sockets,
  // which nginx cannot open() (ENXIO).
  const stdout = openSync(join(dir, 'logs/stdout.log'), 'a');
  const tested = spawnSync('nginx', ['-t', ...testArgs], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (tested.status !== 0) {
    closeSync(stdout);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t failed: ${tested.stderr || tested.error?.message}`);
  }
  const child = spawn('nginx', args, { stdio: ['ignore', stdout, 'pipe'] });
  closeSync(stdout);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // fast shutdown: the master stops its workers
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not start: ${stderr}${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { pid: child.pid!, dir, errorLog, close: stop };
}
