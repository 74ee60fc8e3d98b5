// Shared parts of the microgateway-core compatibility tests: a loopback echo target shaped like
// microgateway-core's own test target (hello_rest), the gateway started through the compat API
// (callbacks wrapped in promises) and the request shape its tests read.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { request as clientRequest } from '../../../../test/helpers/client.js';
import { teeDestination, teeLevel } from '../../../../test/helpers/log-tee.js';
import microgatewayEsm, {
  type Microgateway,
  type MicrogatewayConfig,
  type MicrogatewayFactory,
  type MicrogatewayServer,
} from '../../src/compat/index.js';

/** The factory as CommonJS users get it: `require('@gatehouse/gateway')`. */
export const microgatewayCjs = createRequire(import.meta.url)('@gatehouse/gateway') as MicrogatewayFactory;
export const microgateway = microgatewayEsm;

// Every line the gateways log goes to the suite's secret sweep (at trace level when it runs), none to stdout.
const LOG_LEVEL = teeLevel('error');
for (const f of [microgateway, microgatewayCjs])
  f.Logging.init(undefined, { destination: teeDestination('silent') });

/** A free port for `edgemicro.port`. */
export { closedPort as freePort } from '../../../../test/helpers/engine.js';

export interface Target {
  port: number;
  url: string;
  /** Request heads the target received. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export const BODY_MAP: Record<string, unknown> = {
  get: { get: 'gettest' },
  post: { post: 'posttest' },
  put: { put: 'puttest' },
};

/**
 * `/echo/:key` answers `{ [key]: BODY_MAP[key], body }` (body: the parsed JSON request body, when one came);
 * `/delay/:ms` answers after that long; `/status/:code/:reason` answers that status with that reason phrase; `/slow` never answers;
 * `/die` destroys the socket. Anything else: 200 `{ url, headers }`.
 */
export async function startTarget(options: { tls?: https.ServerOptions } = {}): Promise<Target> {
  const seen: Target['seen'] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const parts = path.split('/').filter(Boolean);
      if (parts[0] === 'echo') {
        const key = parts[1] ?? '';
        const out: Record<string, unknown> = { [key]: BODY_MAP[key] };
        if (chunks.length) out.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      } else if (parts[0] === 'status') {
        res.writeHead(Number(parts[1]), decodeURIComponent(parts[2] ?? ''), { 'content-type': 'text/plain' });
        res.end('status');
      } else if (parts[0] === 'delay') {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ delayed: Number(parts[1]) }));
        }, Number(parts[1]));
      } else if (parts[0] === 'slow') {
        // never answers: the gateway's target timeout must
      } else if (parts[0] === 'die') {
        req.socket.destroy();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, headers: req.headers }));
      }
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The smallest microgateway-core config: one proxy at `/v1` to `target`, logs quiet. */
export function baseConfig(
  port: number,
  targetUrl: string,
  extra: Partial<MicrogatewayConfig> = {},
): MicrogatewayConfig {
  const { edgemicro, ...rest } = extra;
  return {
    edgemicro: {
      port,
      address: '127.0.0.1',
      logging: { level: LOG_LEVEL, to_console: true },
      ...edgemicro,
    },
    proxies: [{ base_path: '/v1', secure: false, url: targetUrl }],
    ...rest,
  };
}

export function startGateway(gateway: Microgateway): Promise<MicrogatewayServer> {
  return new Promise((resolve, reject) =>
    gateway.start((err, server) => (err ? reject(err) : resolve(server!))),
  );
}

export function stopGateway(gateway: Microgateway): Promise<void> {
  return new Promise((resolve, reject) => gateway.stop((err) => (err ? reject(err) : resolve())));
}

export interface Reply {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The suite's client (/test/helpers/client.ts), rejecting when no response head came, as
 *  postman-request's callback gets an error. */
export async function request(
  url: string,
  options: Pick<https.RequestOptions, 'ca' | 'method' | 'headers'> & { body?: string } = {},
): Promise<Reply> {
  const { ca, method, headers, body } = options;
  const r = await clientRequest(url, {
    ...(method ? { method } : {}),
    ...(headers ? { headers: headers as http.OutgoingHttpHeaders } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(ca ? { tls: { ca } } : {}),
    timeoutMs: 15_000,
  });
  if (r.status === undefined) throw new Error(`request failed: ${r.error}`);
  return { status: r.status, statusMessage: r.statusMessage, headers: r.headers, body: r.text };
}

/** JSON request like postman-request's `json: body`. */
export function requestJson(method: string, url: string, json?: unknown): Promise<Reply> {
  return request(url, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
}
