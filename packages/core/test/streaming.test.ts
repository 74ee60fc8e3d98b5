// Bodies stream end to end with backpressure: 1 GiB each way through the proxy with flat memory.
// The proxy runs in its own process so its RSS is measured alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnServe } from '../../../test/helpers/cli.js';

const GiB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 'z');

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

/** Write `total` bytes to a writable honouring backpressure. */
function pump(w: NodeJS.WritableStream & { destroyed?: boolean }, total: number, end: () => void): void {
  let sent = 0;
  const go = (): void => {
    while (sent < total) {
      sent += CHUNK.length;
      if (!w.write(CHUNK)) {
        w.once('drain', go);
        return;
      }
    }
    end();
  };
  go();
}

test(
  '1 GiB up and 1 GiB down stream through with the proxy RSS growing less than 64 MiB',
  { timeout: 120_000 },
  async (t) => {
    const upstream = http.createServer((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(String(n)));
        return;
      }
      res.writeHead(200, { 'content-length': String(GiB) });
      pump(res, GiB, () => res.end());
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    t.after(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    const upPort = (upstream.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'gh-stream-'));
    const file = join(dir, 'gh.json');
    writeFileSync(
      file,
      JSON.stringify({
        servers: [
          {
            listen: [{ address: '127.0.0.1', port: 0 }],
            routes: [
              // Streamed (not buffered to a temporary file): the subject is memory while streaming.
              {
                match: { prefix: '/' },
                action: { type: 'proxy', upstream: `http://127.0.0.1:${upPort}`, requestBuffering: false },
              },
            ],
          },
        ],
        limits: { requestTimeoutMs: 0 },
        log: { level: 'info' },
      }),
    );
    const { proc, port } = await spawnServe(file);
    t.after(() => proc.kill('SIGKILL'));
    // Warm up, then take the baseline.
    await new Promise<void>((resolve) =>
      http
        .get(
          `http://127.0.0.1:${port}/`,
          { agent: false, headers: { range: 'x' } },
          (res) => res.destroy() && resolve(),
        )
        .on('error', () => resolve()),
    );
    await new Promise((r) => setTimeout(r, 200));
    const base = rssOf(proc.pid!);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(proc.pid!))), 50);
    t.after(() => clearInterval(sampler));

    const received = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `http://127.0.0.1:${port}/upload`,
        { method: 'POST', agent: false, headers: { 'content-length': String(GiB) } },
        (res) => {
          let s = '';
          res.on('data', (c) => (s += c));
          res.on('end', () => resolve(s));
        },
      );
      req.on('error', reject);
      pump(req, GiB, () => req.end());
    });
    assert.equal(received, String(GiB));

    const downloaded = await new Promise<number>((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${port}/download`, { agent: false }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(downloaded, GiB);
    clearInterval(sampler);
    const growth = peak - base;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
  },
);
