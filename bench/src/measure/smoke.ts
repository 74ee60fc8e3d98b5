// One request before any load: a misconfigured peer must fail loudly, not produce fast 404s.
import http from 'node:http';
import https from 'node:https';

export function smokeRequest(
  scheme: 'http' | 'https',
  port: number,
  path: string,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const lib = scheme === 'https' ? https : http;
    const req = lib.get(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, timeout: 10000 },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('smoke request timed out')));
    req.on('error', reject);
  });
}
