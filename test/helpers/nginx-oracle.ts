// Debian nginx as an oracle: start it in a temp dir on a 127.0.0.1 ephemeral port with a given
// `http {}` body, stop it by PID. Tests that use it skip when nginx is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, eventually } from './engine.js';

export function nginxAvailable(): boolean {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface RunningNginx {
  port: number;
  dir: string;
  errorLog(): string;
  close(): Promise<void>;
}

/** Start nginx with `server` as the body of one server block listening on a fresh loopback port. */
export async function startNginx(
  serverBody: string,
  httpExtra = '',
  workerConnections = 256,
): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await closedPort();
  const conf = `user root;
worker_processes 1;
error_log ${dir}/logs/error.log info;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${httpExtra}
  server {
    listen 127.0.0.1:${port};
    ${serverBody}
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', `${dir}/`, '-c', 'nginx.conf', '-g', `pid ${dir}/nginx.pid; daemon off;`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const up = await eventually(() => existsSync(join(dir, 'nginx.pid')), 5000);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${stderr}`);
  }
  return {
    port,
    dir,
    errorLog: () => {
      try {
        return readFileSync(join(dir, 'logs/error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
