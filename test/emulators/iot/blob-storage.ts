// An emulator of Azure Blob Storage's Put Blob / Append Block as the IoT Edge blob module serves them
// (path-style `/account/container/blob?sas`): an `x-ms-version` is required, and, as Azure Storage
// does, a Put Blob without Content-Length is refused with 411. Bodies are hashed while they stream,
// never kept.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredBlob {
  url: string;
  size: number;
  sha256: string;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
}

export interface BlobStorage {
  port: number;
  /** Completed uploads, by path. */
  blobs: Map<string, StoredBlob>;
  /** Status of every request, in order. */
  statuses: Array<{ method: string; url: string; status: number }>;
  close(): Promise<void>;
}

export async function startBlobStorage(host = '127.0.0.1'): Promise<BlobStorage> {
  const blobs = new Map<string, StoredBlob>();
  const statuses: BlobStorage['statuses'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://blob');
    const answer = (status: number, code?: string): void => {
      statuses.push({ method: req.method ?? '', url: req.url ?? '', status });
      const body = code ? `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code></Error>` : '';
      res.writeHead(status, {
        'content-length': Buffer.byteLength(body),
        'x-ms-version': String(req.headers['x-ms-version'] ?? ''),
        ...(code ? { 'content-type': 'application/xml', 'x-ms-error-code': code } : {}),
      });
      res.end(body);
    };
    if (req.method !== 'PUT') {
      req.resume();
      return answer(req.method === 'GET' && blobs.has(url.pathname) ? 200 : 404, 'BlobNotFound');
    }
    if (!req.headers['x-ms-version']) {
      req.resume();
      return answer(400, 'MissingRequiredHeader');
    }
    if (req.headers['content-length'] === undefined) {
      // Azure Storage refuses a chunked Put Blob: it needs the length before the body.
      req.resume();
      res.shouldKeepAlive = false;
      return answer(411, 'MissingContentLengthHeader');
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    req.on('end', () => {
      blobs.set(url.pathname, {
        url: req.url ?? '',
        size,
        sha256: hash.digest('hex'),
        contentLength: req.headers['content-length'],
        transferEncoding: req.headers['transfer-encoding'],
      });
      answer(201);
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    blobs,
    statuses,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
