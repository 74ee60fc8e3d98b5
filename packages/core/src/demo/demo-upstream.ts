// A small built-in upstream for the demo and tests: echoes what it received, serves fixed bodies.
import http from 'node:http';

export interface DemoUpstream {
  port: number;
  close(): Promise<void>;
}

export async function startDemoUpstream(port = 0, host = '127.0.0.1'): Promise<DemoUpstream> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/hello' || url.startsWith('/hello?')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('hello world\n');
    }
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      const body = JSON.stringify(
        {
          method: req.method,
          url,
          headers: req.headers,
          bodyBytes: size,
          served_by: 'gatehouse-demo-upstream',
        },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body + '');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
