// The upstream every proxy forwards to: Debian nginx, one worker, pinned with the load generator, so
// it is never the bottleneck. `/files/` serves the large bodies, `/chunked/` the same chunked,
// `/v2/bench/blobs/` the same as an image registry's blob path (the IoT layer pull), and everything
// else a fixed small body.
import { fileURLToPath } from 'node:url';
import { mkdirSync, openSync, writeSync, closeSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../proc/ports.js';
import { start, isAlive, type Started } from '../proc/registry.js';

export const SMALL_BODY = 'hello world\n';
const FILES = { '1m': 1 << 20, '64m': 64 << 20 } as const;
/** The IoT chain's image layer: sparse (zeros, no disk written), so every run can afford it. */
export const LAYER_BLOB = { path: '/v2/bench/blobs/1g.bin', bytes: 1 << 30 } as const;

export interface Origin {
  port: number;
  proc: Started;
}

function writeFile(path: string, size: number): void {
  const chunk = Buffer.alloc(1 << 20, 'x');
  const fd = openSync(path, 'w');
  for (let done = 0; done < size; done += chunk.length)
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
  closeSync(fd);
}

/** Temp-path directives so nginx never touches /var/lib/nginx (shared with other users of the host). */
export function nginxTempPaths(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `${k}_temp_path ${join(dir, k)};`)
    .join('\n  ');
}

export async function startOrigin(dir: string): Promise<Origin> {
  const root = join(dir, 'origin');
  mkdirSync(join(root, 'files'), { recursive: true });
  writeFile(join(root, 'files', '1m.bin'), FILES['1m']);
  writeFile(join(root, 'files', '64m.bin'), FILES['64m']);
  writeFileSync(join(root, 'files', '1g.bin'), '');
  truncateSync(join(root, 'files', '1g.bin'), LAYER_BLOB.bytes);
  const port = await freePort();
  const conf = `user root;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log ${join(root, 'error.log')} warn;
events { worker_connections 19000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  default_type text/plain;
  ${nginxTempPaths(join(root, 'tmp'))}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { return 200 "${SMALL_BODY.replace('\n', '\\n')}"; }
    location /files/ { alias ${join(root, 'files')}/; }
    location /v2/bench/blobs/ { alias ${join(root, 'files')}/; }
    # The same files without a length: SSI makes nginx send them chunked (32 KiB chunks).
    location /chunked/ { alias ${join(root, 'files')}/; ssi on; ssi_types *; }
  }
}
`;
  writeFileSync(join(root, 'nginx.conf'), conf);
  const proc = start(
    'origin-nginx',
    'nginx',
    ['-p', root + '/', '-c', join(root, 'nginx.conf'), '-g', `pid ${join(root, 'nginx.pid')}; daemon off;`],
    'load',
  );
  if (!(await waitForPort(port, 10000, () => isAlive(proc))))
    throw new Error(`origin nginx did not start: ${proc.stderr()}`);
  return { port, proc };
}

const wsEcho = fileURLToPath(new URL('../load/scripts/ws-echo.mjs', import.meta.url));

/** The WebSocket echo upstream (Node + ws) on the load core. */
export async function startWsOrigin(): Promise<Origin> {
  const port = await freePort();
  const proc = start('ws-echo', process.execPath, [wsEcho, String(port)], 'load');
  if (!(await waitForPort(port, 10000, () => isAlive(proc))))
    throw new Error(`ws echo upstream did not start: ${proc.stderr()}`);
  return { port, proc };
}
