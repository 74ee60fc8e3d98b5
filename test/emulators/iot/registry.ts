// An emulator of a Docker registry (distribution API v2) for image pulls through the proxy layers:
// `/v2/`, manifests (GET/HEAD), blobs of any size generated on the fly (never held in memory) with
// Range and an optional 307 redirect to a second URL, as registries redirect to their storage.
// Every request is recorded with its raw target.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BLOCK = 1 << 20;

/** The bytes of a generated blob: a 1 MiB pseudo-random block whose every copy is offset by its index. */
class GeneratedBlob {
  readonly block: Buffer;
  digest = '';
  constructor(
    readonly size: number,
    seed: number,
  ) {
    this.block = Buffer.allocUnsafe(BLOCK);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < BLOCK; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.block.writeUInt32LE(x >>> 0, i);
    }
  }

  /** Byte chunks of [start, end) in pieces of at most 1 MiB. */
  *chunks(start = 0, end = this.size): Generator<Buffer> {
    let pos = start;
    while (pos < end) {
      const index = Math.floor(pos / BLOCK);
      const off = pos % BLOCK;
      const n = Math.min(BLOCK - off, end - pos);
      const piece = Buffer.from(this.block.subarray(off, off + n));
      // Each copy's first byte differs, so a repeated or lost block changes the hash.
      if (off === 0) piece[0] = piece[0]! ^ (index & 0xff);
      yield piece;
      pos += n;
    }
  }

  sha256(start = 0, end = this.size): string {
    const h = createHash('sha256');
    for (const c of this.chunks(start, end)) h.update(c);
    return h.digest('hex');
  }
}

interface RegistryCall {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Registry {
  port: number;
  calls: RegistryCall[];
  /** Register a blob of `size` bytes under repository `name`; returns its `sha256:` digest. */
  addBlob(name: string, size: number, seed?: number, opts?: { redirect?: boolean }): GeneratedBlob;
  blob(digest: string): GeneratedBlob | undefined;
  close(): Promise<void>;
}

export async function startRegistry(host = '127.0.0.1'): Promise<Registry> {
  const calls: RegistryCall[] = [];
  const blobs = new Map<string, { blob: GeneratedBlob; name: string; redirect: boolean }>();
  const manifests = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    const url = new URL(req.url ?? '/', 'http://registry');
    const head = req.method === 'HEAD';
    const json = (status: number, body: unknown, type = 'application/json'): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': type,
        'content-length': Buffer.byteLength(text),
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end(head ? undefined : text);
    };
    if (url.pathname === '/v2/') return json(200, {});
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifest) {
      const layers = manifests.get(manifest[1]!) ?? [];
      return json(
        200,
        {
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          layers: layers.map((d) => ({ digest: d, size: blobs.get(d)?.blob.size })),
        },
        'application/vnd.docker.distribution.manifest.v2+json',
      );
    }
    const blobMatch = /^\/v2\/(.+)\/blobs\/(data\/)?(sha256:[0-9a-f]+)$/.exec(url.pathname);
    const entry = blobMatch ? blobs.get(blobMatch[3]!) : undefined;
    if (!blobMatch || !entry) return json(404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
    if (entry.redirect && !blobMatch[2]) {
      res.writeHead(307, { location: `/v2/${blobMatch[1]}/blobs/data/${blobMatch[3]}`, 'content-length': 0 });
      return res.end();
    }
    const size = entry.blob.size;
    let start = 0;
    let end = size;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]) + 1, size) : size;
      if (start >= size || start >= end) {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
        return res.end();
      }
      status = 206;
    }
    res.writeHead(status, {
      'content-type': 'application/octet-stream',
      'content-length': end - start,
      'docker-content-digest': blobMatch[3],
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}),
    });
    if (head) return res.end();
    const chunks = entry.blob.chunks(start, end);
    const pump = (): void => {
      for (;;) {
        const next = chunks.next();
        if (next.done) return void res.end();
        if (!res.write(next.value)) return void res.once('drain', pump);
      }
    };
    res.on('error', () => undefined);
    pump();
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    addBlob: (name, size, seed = size, opts = {}) => {
      const blob = new GeneratedBlob(size, seed);
      blob.digest = `sha256:${blob.sha256()}`;
      blobs.set(blob.digest, { blob, name, redirect: opts.redirect === true });
      manifests.set(name, [...(manifests.get(name) ?? []), blob.digest]);
      return blob;
    },
    blob: (digest) => blobs.get(digest)?.blob,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
