// A minimal forward proxy for egress tests: CONNECT tunnels to the requested host:port, and
// absolute-form requests handed to `onHttp` (answer them, or relay them). Records both.
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** host:port of each CONNECT. */
  connects: string[];
  /** Absolute-form targets received. */
  absolute: string[];
  close(): void;
}

export async function startConnectProxy(
  onHttp: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<ConnectProxy> {
  const connects: string[] = [];
  const absolute: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    absolute.push(req.url ?? '');
    onHttp(req, res);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    const i = (req.url ?? '').lastIndexOf(':');
    const upstream = net.connect(Number((req.url ?? '').slice(i + 1)), (req.url ?? '').slice(0, i), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream).add(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    absolute,
    close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}
