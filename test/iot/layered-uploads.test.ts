// A 300 MB blob upload with `x-ms-version` from the bottom layer of three (layered-chain.ts) to the
// blob storage fake behind the top one, once with Content-Length and once chunked (each layer spools
// it and sends it on with its length, as nginx's proxy_request_buffering does; the fake answers 411
// without one). The body is generated and hashed as it is sent, never held: the process's RSS, which
// holds the three proxies and the fake too, must stay flat. Time is bounded, never asserted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { NEEDS_PORT_443 } from './harness.js';
import { startLayeredChain, type LayeredChain } from './layered-chain.js';

const UPLOAD_BYTES = Number(process.env.IOT_UPLOAD_MB ?? 300) * 1000 * 1000;
const CHUNK = 1 << 20;
/** Generous: uploads ran at about 6 MB/s through the three layers on the shared 2-core machine. */
const UPLOAD_TIMEOUT_MS = 8 * 60_000;

interface Uploaded {
  status: number;
  body: string;
  sha256: string;
  /** Highest RSS growth seen while uploading. */
  rssGrowth: number;
  seconds: number;
}

/** Deterministic, varied content: chunk `i` differs from its neighbours, so a dropped, repeated or
 *  reordered chunk changes the hash. */
function chunkAt(i: number, size: number): Buffer {
  const c = Buffer.alloc(size, i & 0xff);
  c.writeUInt32BE(i, 0);
  return c;
}

/** PUT `bytes` generated on the fly, with Content-Length or chunked, honouring back-pressure. */
function upload(url: string, ca: string, bytes: number, framing: 'length' | 'chunked'): Promise<Uploaded> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const startRss = process.memoryUsage.rss();
    let peak = startRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
    const fail = (err: Error): void => {
      clearInterval(sampler);
      reject(err);
    };
    const hash = createHash('sha256');
    const req = https.request(url, {
      method: 'PUT',
      ca,
      agent: false,
      checkServerIdentity: () => undefined,
      headers: {
        'x-ms-version': '2019-12-12',
        'x-ms-blob-type': 'BlockBlob',
        ...(framing === 'length' ? { 'content-length': String(bytes) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    req.on('error', fail);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', fail);
      res.on('end', () => {
        clearInterval(sampler);
        resolve({
          status: res.statusCode ?? 0,
          body,
          sha256: hash.digest('hex'),
          rssGrowth: peak - startRss,
          seconds: (Date.now() - started) / 1000,
        });
      });
    });
    let sent = 0;
    let i = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const c = chunkAt(i++, Math.min(CHUNK, bytes - sent));
        sent += c.length;
        hash.update(c);
        if (!req.write(c)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('300 MB blob uploads through three layers', { skip: NEEDS_PORT_443 }, () => {
  let chain: LayeredChain;

  before(async () => {
    chain = await startLayeredChain(20);
  });

  after(async () => {
    await chain?.close();
  });

  for (const framing of ['length', 'chunked'] as const)
    it(
      `with ${framing === 'length' ? 'Content-Length' : 'chunked framing'}: byte-exact at storage, flat memory`,
      { timeout: UPLOAD_TIMEOUT_MS },
      async () => {
        const path = `/devstore/container/big-${framing}`;
        const res = await upload(
          `${chain.bottom.base}${path}?sv=2019-12-12&sig=abc`,
          chain.ca.certPem,
          UPLOAD_BYTES,
          framing,
        );
        assert.equal(res.status, 201, res.body);
        const stored = chain.blobs.blobs.get(path);
        assert.equal(stored?.size, UPLOAD_BYTES);
        assert.equal(stored?.sha256, res.sha256);
        // Storage got a length either way (a chunked Put Blob would have been a 411).
        assert.equal(stored?.contentLength, String(UPLOAD_BYTES));
        assert.equal(stored?.transferEncoding, undefined);
        // Client, three proxies and the fake share this process: none may hold the body.
        assert.ok(
          res.rssGrowth < Math.min(UPLOAD_BYTES / 2, 160 * 1024 * 1024),
          `RSS grew ${res.rssGrowth >> 20} MiB`,
        );
        process.stderr.write(
          `# ${framing} upload through 3 layers: ${UPLOAD_BYTES / 1e6} MB in ${res.seconds.toFixed(1)} s ` +
            `(${(UPLOAD_BYTES / 1e6 / res.seconds).toFixed(1)} MB/s), RSS growth ${res.rssGrowth >> 20} MiB\n`,
        );
      },
    );
});
