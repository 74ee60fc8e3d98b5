// One large upload through one proxy, MB/s: gatehouse (packages/core/dist, `pnpm build` first) with
// request buffering on and off, and nginx with the same settings when it is installed. A node client
// PUTs SIZE MiB (Content-Length, or chunked with CHUNKED=1) in 64 KiB writes to a node sink upstream
// that discards it; the time is from the first byte sent to the response. Everything on 127.0.0.1,
// killed by PID at the end; each upload bounded by a 120 s timer. TLS=1: TLS from the client to the
// proxy and from the proxy to the sink (a throw-away openssl certificate), as between IoT layers.
// GATEHOUSE_DIST: another build of core (an A/B in the same window); NGINX=0: gatehouse only.
//   [CHUNKED=1] [TLS=1] node bench/experiments/upload-throughput.mjs [SIZE_MIB=256] [REPS=3]
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
const { createGatehouse } = await import(process.env.GATEHOUSE_DIST ?? '../../packages/core/dist/index.js');

const MIB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MIB;
const reps = Number(process.argv[3] ?? 3);
const chunked = process.env.CHUNKED === '1';
const piece = Buffer.alloc(64 * 1024, 120);
const useTls = process.env.TLS === '1';
const certDir = mkdtempSync(join(tmpdir(), 'upload-certs-'));
let cert = '';
let key = '';
if (useTls) {
  spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ]);
  cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
  key = readFileSync(join(certDir, 'key.pem'), 'utf8');
}
const scheme = useTls ? 'https' : 'http';
const client = useTls ? https : http;

const sink = (useTls ? https : http).createServer(useTls ? { cert, key } : {}, (req, res) => {
  let n = 0;
  req.on('data', (c) => (n += c.length));
  req.on('end', () => res.end(String(n)));
});
sink.listen(0, '127.0.0.1');
await once(sink, 'listening');
const sinkPort = sink.address().port;

function upload(port) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const headers = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) };
    const req = client.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: '/up',
      headers,
      agent: false,
      rejectUnauthorized: false,
    });
    const guard = setTimeout(() => req.destroy(new Error('upload over 120 s')), 120_000);
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        clearTimeout(guard);
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        if (res.statusCode !== 200 || Number(body) !== size) reject(new Error(`${res.statusCode} ${body}`));
        else resolve(size / MIB / s);
      });
    });
    let left = size / piece.length;
    const more = () => {
      while (left > 0) {
        left--;
        if (left === 0) return void req.end(piece);
        if (!req.write(piece)) return void req.once('drain', more);
      }
    };
    more();
  });
}

async function series(name, port) {
  const out = [];
  await upload(port); // warm-up
  for (let i = 0; i < reps; i++) out.push(await upload(port));
  const sorted = [...out].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(28)} ${out.map((x) => x.toFixed(0)).join(' / ')} MB/s (median ${sorted[sorted.length >> 1].toFixed(0)})`,
  );
}

for (const buffering of [true, false]) {
  const gh = createGatehouse({
    config: {
      log: { level: 'error' },
      upstreams: { sink: { url: `${scheme}://127.0.0.1:${sinkPort}`, tls: { verify: false } } },
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0, tls: useTls, http2: false }],
          ...(useTls ? { tls: { certificate: { cert, key } } } : {}),
          routes: [
            {
              match: { prefix: '/' },
              action: { type: 'proxy', upstream: 'sink', requestBuffering: buffering },
            },
          ],
        },
      ],
    },
  });
  await gh.start();
  await series(`gatehouse buffering ${buffering ? 'on' : 'off'}`, gh.addresses()[0].port);
  await gh.close(1000);
}

if (process.env.NGINX !== '0' && spawnSync('nginx', ['-v']).status === 0) {
  for (const buffering of ['on', 'off']) {
    const dir = mkdtempSync(join(tmpdir(), 'upload-nginx-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `user root; worker_processes 1; error_log ${dir}/error.log error; pid ${dir}/nginx.pid;
events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  client_max_body_size 0;
  server { listen 127.0.0.1:${port}${useTls ? ' ssl' : ''};
    ${useTls ? `ssl_certificate ${certDir}/cert.pem; ssl_certificate_key ${certDir}/key.pem;` : ''}
    location / { proxy_request_buffering ${buffering}; proxy_http_version 1.1;
      proxy_pass ${scheme}://127.0.0.1:${sinkPort}; } } }
`,
    );
    const child = spawn('nginx', ['-p', `${dir}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 500));
    try {
      await series(`nginx proxy_request_buffering ${buffering}`, port);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
sink.close();
rmSync(certDir, { recursive: true, force: true });
