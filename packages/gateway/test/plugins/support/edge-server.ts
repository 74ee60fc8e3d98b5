// A small Edge-like verifyApiKey service on 127.0.0.1 (reference §4.5): POST {"apiKey"} with Basic
// key:secret; known keys get 200 {"token": JWT}, unknown ones 401. It counts calls and can be made
// slow or unreachable. The lead may switch these tests to the shared Edge emulator.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { claimsFor, signJwt, type TestKeys } from './keys.js';

export interface EdgeServer {
  readonly url: string;
  calls: number;
  /** Basic credentials seen on the last call. */
  lastAuthorization: string | undefined;
  lastDnaKey: string | undefined;
  /** Delay before answering (ms). */
  delayMs: number;
  /** Reset every connection instead of answering. */
  down: boolean;
  close(): Promise<void>;
}

export async function startEdgeServer(
  keys: TestKeys,
  apps: Record<string, { products: string[]; extra?: Record<string, unknown> }>,
  credentials: { key: string; secret: string },
): Promise<EdgeServer> {
  const sockets = new Set<Socket>();
  const state = {
    url: '',
    calls: 0,
    lastAuthorization: undefined as string | undefined,
    lastDnaKey: undefined as string | undefined,
    delayMs: 0,
    down: false,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const basic = `Basic ${Buffer.from(`${credentials.key}:${credentials.secret}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (state.down) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.calls++;
      state.lastAuthorization = req.headers.authorization;
      state.lastDnaKey = req.headers['x-dna-api-key'] as string | undefined;
      const answer = (): void => {
        if (req.headers.authorization !== basic) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return void res.end('{"error":"unauthorized","error_description":"authentication failed"}');
        }
        let apiKey: unknown;
        try {
          apiKey = (JSON.parse(Buffer.concat(chunks).toString()) as { apiKey?: unknown }).apiKey;
        } catch {
          apiKey = undefined;
        }
        const app = typeof apiKey === 'string' ? apps[apiKey] : undefined;
        if (!app) {
          res.writeHead(401, 'Unauthorized', { 'content-type': 'application/json' });
          return void res.end('{"fault":"invalid api key"}');
        }
        const token = signJwt(keys, claimsFor(app.products, { client_id: apiKey, ...app.extra }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token }));
      };
      if (state.delayMs) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/edgemicro-auth/verifyApiKey`;
  return state;
}
