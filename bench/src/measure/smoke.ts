// One request before any load: a misconfigured peer must fail loudly, not produce fast 404s. The start
// of the body is kept so a scenario can require the origin's own answer (a chain really reached it).
import http from 'node:http';
import https from 'node:https';

export function smokeRequest(
  scheme: 'http' | 'https',
  port: number,
  path: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const lib = scheme === 'https' ? https : http;
    const req = lib.get(
      { host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, agent: false, timeout: 10000 },
      (res) => {
        let bytes = 0;
        const head: Buffer[] = [];
        res.on('data', (d: Buffer) => {
          // Keep at most the first 4 KiB: the large-body scenarios stream 64 MiB through here.
          if (bytes < 4096) head.push(d.subarray(0, 4096 - bytes));
          bytes += d.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, body: Buffer.concat(head).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('smoke request timed out')));
    req.on('error', reject);
  });
}
