// An emulator of edgeHub's HTTPS surface behind the API proxy: identity calls (`/devices/…`),
// direct-method invocation (`/twins/…/methods`) and the `/$iothub/websocket` upgrade (an echo over
// `ws`). Every request is recorded with the `Authorization` and `x-ms-edge-clientcert` it carried,
// and the Authorization is checked as a SAS token of a known identity, as edgeHub does before it
// trusts a forwarded client certificate.
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { verifySas, type MethodResult } from './mqtt-hub.js';

interface EdgeHubCall {
  method: string;
  url: string;
  authorization: string | undefined;
  /** URL-decoded PEM of `x-ms-edge-clientcert`, when sent. */
  clientCert: string | undefined;
  /** The identity whose SAS token the Authorization is, or the reason it is none. */
  identity: string | undefined;
  authError: string | undefined;
  websocket: boolean;
  headers: Record<string, string | string[] | undefined>;
}

export interface EdgeHubOptions {
  host?: string;
  port?: number;
  cert: string;
  key: string;
  hubHostname: string;
  gatewayHostname: string;
  /** `device/module` (or `device`) → base64 key. */
  keys: Record<string, string>;
  /** Direct methods: `POST /twins/{d}/modules/{m}/methods`. */
  invokeMethod?: (target: string, name: string, payload: unknown, timeoutMs: number) => Promise<MethodResult>;
}

export interface EdgeHub {
  port: number;
  calls: EdgeHubCall[];
  /** Open WebSocket tunnels. */
  sockets: number;
  close(): Promise<void>;
}

export async function startEdgeHub(options: EdgeHubOptions): Promise<EdgeHub> {
  const calls: EdgeHubCall[] = [];
  const hosts = [options.hubHostname, options.gatewayHostname];
  const record = (req: import('node:http').IncomingMessage, websocket: boolean): EdgeHubCall => {
    const authorization = req.headers.authorization;
    const raw = req.headers['x-ms-edge-clientcert'];
    let identity: string | undefined;
    let authError: string | undefined = 'no Authorization';
    if (authorization) {
      authError = 'no identity matched';
      for (const [id, key] of Object.entries(options.keys)) {
        const reason = verifySas(authorization, id, key, hosts);
        if (reason === undefined) {
          identity = id;
          authError = undefined;
          break;
        }
      }
    }
    const call: EdgeHubCall = {
      method: req.method ?? '',
      url: req.url ?? '',
      authorization,
      clientCert: typeof raw === 'string' ? decodeURIComponent(raw) : undefined,
      identity,
      authError,
      websocket,
      headers: { ...req.headers },
    };
    calls.push(call);
    return call;
  };
  const reply = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = record(req, false);
      if (call.identity === undefined) return reply(res, 401, { message: call.authError });
      const m = /^\/twins\/([^/?]+)(?:\/modules\/([^/?]+))?\/methods(?:\?|$)/.exec(req.url ?? '');
      if (m && req.method === 'POST' && options.invokeMethod) {
        let body: { methodName?: string; payload?: unknown; responseTimeoutInSeconds?: number };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return reply(res, 400, { message: 'bad JSON' });
        }
        const target = m[2]
          ? `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2])}`
          : decodeURIComponent(m[1]!);
        options
          .invokeMethod(
            target,
            body.methodName ?? '',
            body.payload,
            (body.responseTimeoutInSeconds ?? 10) * 1000,
          )
          .then((r) => reply(res, 200, r))
          .catch((err: Error) => reply(res, 404, { message: err.message }));
        return;
      }
      reply(res, 200, { identity: call.identity, url: req.url, bytes: Buffer.concat(chunks).length });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  let sockets = 0;
  server.on('upgrade', (req, socket, head) => {
    const call = record(req, true);
    if (!(req.url ?? '').startsWith('/$iothub/websocket') || call.identity === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets++;
      ws.on('message', (data, binary) => ws.send(data, { binary }));
      ws.on('close', () => sockets--);
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    get sockets() {
      return sockets;
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
