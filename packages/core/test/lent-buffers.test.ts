// Response bodies read into pooled buffers and lent to the client write (upstream/h1/read-buffers.ts)
// must never be reused before the client has them: concurrent large downloads, each with its own
// byte pattern, half of them stalled so writes queue up in the proxy, all arrive byte-exact; over
// HTTP/1 and HTTP/2 (which gets copies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { createHash } from 'node:crypto';
import { startEngine, proxyRoute } from '../../../test/helpers/engine.js';

// Larger than loopback's socket buffers, so a stalled client makes writes queue in the proxy.
const SIZE = 12 * 1024 * 1024 + 12_345;

function pattern(seed: number): Buffer {
  const b = Buffer.allocUnsafe(SIZE);
  for (let i = 0; i < SIZE; i++) b[i] = (i * 31 + seed * 17 + (i >> 9)) & 0xff;
  return b;
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const framing of ['content-length', 'chunked'] as const)
  test(`12 concurrent 12 MiB downloads (${framing}), half stalled for 300 ms: every body byte-exact (HTTP/1, and HTTP/2 with copies)`, () =>
    downloads(framing));

/** With `chunked`, every upstream write is a chunk of 1,000–91,000 bytes: one read holds several
 *  chunks, each a view of the same pooled buffer, returned only when all are written. */
async function downloads(framing: 'content-length' | 'chunked'): Promise<void> {
  const bodies = new Map<number, Buffer>();
  for (let s = 0; s < 8; s++) bodies.set(s, pattern(s));
  const upstream = http.createServer((req, res) => {
    const seed = Number(/\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0) % 8;
    const body = bodies.get(seed)!;
    res.writeHead(200, framing === 'chunked' ? {} : { 'content-length': body.length });
    // Uneven pieces, so reads straddle body boundaries in every way.
    let off = 0;
    const next = (): void => {
      while (off < body.length) {
        const n = Math.min(body.length - off, 1000 + ((off * 7) % 90_000));
        const ok = res.write(body.subarray(off, off + n));
        off += n;
        if (!ok) return void res.once('drain', next);
      }
      res.end();
    };
    next();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as { port: number }).port;
  const engine = await startEngine({
    upstreams: { up: { url: `http://127.0.0.1:${port}`, maxConnections: 8 } },
    servers: [
      {
        listen: [
          { address: '127.0.0.1', port: 0 },
          { address: '127.0.0.1', port: 0, h2c: true },
        ],
        routes: [proxyRoute('up')],
      },
    ],
  });
  try {
    const get1 = (i: number, slow: boolean) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: engine.port, path: `/${i}`, agent: false }, (res) => {
            const parts: Buffer[] = [];
            let stalled = false;
            res.on('data', (c: Buffer) => {
              parts.push(c);
              if (slow && !stalled) {
                // One long stall: the kernel buffers fill and the proxy's writes queue (lent buffers pending).
                stalled = true;
                res.pause();
                setTimeout(() => res.resume(), 300);
              }
            });
            res.on('end', () => resolve(digest(Buffer.concat(parts))));
            res.on('error', reject);
          })
          .on('error', reject);
      });
    const one = await Promise.all(Array.from({ length: 12 }, (_, i) => get1(i, i % 2 === 1)));
    one.forEach((d, i) => assert.equal(d, digest(bodies.get(i % 8)!), `HTTP/1 body ${i}`));

    const session = http2.connect(`http://127.0.0.1:${engine.gh.addresses()[1]!.port}`);
    try {
      const get2 = (i: number) =>
        new Promise<string>((resolve, reject) => {
          const s = session.request({ ':path': `/${i}` });
          const parts: Buffer[] = [];
          s.on('data', (c: Buffer) => parts.push(c));
          s.on('end', () => resolve(digest(Buffer.concat(parts))));
          s.on('error', reject);
          s.end();
        });
      const two = await Promise.all(Array.from({ length: 4 }, (_, i) => get2(i)));
      two.forEach((d, i) => assert.equal(d, digest(bodies.get(i % 8)!), `HTTP/2 body ${i}`));
    } finally {
      session.close();
    }
  } finally {
    await engine.close();
    upstream.close();
  }
}
