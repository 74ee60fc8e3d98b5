// Start the engine and small upstreams on 127.0.0.1 ephemeral ports for end-to-end tests.
// Every start function returns a close() that releases all it opened.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { createGatehouse, type Gatehouse, type GatehouseOptions } from '../../packages/core/src/gatehouse.js';
import type {
  GatehouseConfig,
  LimitsConfig,
  RouteConfig,
  ServerConfig,
} from '../../packages/core/src/config/types.js';
import { createLogger } from '../../packages/core/src/observability/logger.js';
import { teeDestination, teeLevel } from './log-tee.js';

export interface RunningEngine {
  gh: Gatehouse;
  /** The first listener's port, and its http:// URL. */
  port: number;
  url: string;
  /** The engine's log lines and access-log lines (unless the caller passed its own logger/stream). */
  logs: string[];
  close(): Promise<void>;
}

/** A config whose servers may leave out `listen` (default: one ephemeral port on 127.0.0.1). */
export type EngineConfig = Omit<GatehouseConfig, 'servers'> & {
  servers: Array<Partial<ServerConfig> & { routes: RouteConfig[] }>;
};

export interface StartEngineOptions extends Omit<GatehouseOptions, 'config'> {
  /** How long close() lets requests in flight finish. Default 200 ms. */
  drainTimeoutMs?: number;
}

/** Start an engine. Its log (at `config.log.level`, default warn) and access log are kept in `logs`;
 *  the suite's secret sweep gets them at trace level too. */
export async function startEngine(
  config: EngineConfig,
  options: StartEngineOptions = {},
): Promise<RunningEngine> {
  const { drainTimeoutMs = 200, ...engineOptions } = options;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const level = config.log?.level ?? 'warn';
  const full: GatehouseConfig = {
    ...config,
    servers: config.servers.map((s) => ({ listen: [{ address: '127.0.0.1', port: 0 }], ...s })),
  };
  const gh = createGatehouse({
    logger: createLogger({ level: teeLevel(level) }, teeDestination(level, sink)),
    accessLogStream: teeDestination('trace', sink),
    ...engineOptions,
    config: full,
  });
  await gh.start();
  const port = gh.addresses()[0]!.port;
  return { gh, port, url: `http://127.0.0.1:${port}`, logs, close: () => gh.close(drainTimeoutMs) };
}

/** A proxy route for everything under `/` to `upstream`, with `extra` action fields. */
export function proxyRoute(upstream: string, extra: Record<string, unknown> = {}): RouteConfig {
  return { match: { prefix: '/' }, action: { type: 'proxy', upstream, ...extra } } as RouteConfig;
}

/** A one-server config proxying everything under `/` to `upstream`. */
export function proxyConfig(
  upstream: string,
  limits: LimitsConfig = {},
  extraRoutes: RouteConfig[] = [],
  upstreamOptions: Record<string, unknown> = {},
): GatehouseConfig {
  return {
    limits,
    upstreams: { app: { url: upstream, ...upstreamOptions } },
    servers: [
      {
        listen: [{ port: 0 }],
        routes: [...extraRoutes, { match: { prefix: '/' }, action: { type: 'proxy', upstream: 'app' } }],
      },
    ],
  };
}

interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface EchoUpstream {
  port: number;
  url: string;
  server: http.Server;
  requests: RecordedRequest[];
  /** Open TCP connections to this upstream right now. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** An upstream that records each request and answers 200 with a JSON echo of it. */
export async function startEchoUpstream(
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => boolean,
  listenPort = 0,
): Promise<EchoUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      });
      if (handler?.(req, res, body)) return;
      const out = JSON.stringify({ method: req.method, url: req.url, bytes: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.listen(listenPort, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    connections: () => countConnections(server),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  port: number;
  url: string;
  seen: Seen[];
  server: http.Server;
  connections(): number;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** An upstream that records each request (with its full body unless `stream` handles it) and answers
 *  via `handler`, else 200 "ok". */
export async function startUpstream(
  handler?: UpstreamHandler,
  opts: { stream?: boolean } = {},
): Promise<Upstream> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (opts.stream && handler) return handler(req, res, Buffer.alloc(0));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      });
      if (handler) handler(req, res, body);
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    server,
    connections: () => sockets.size,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function countConnections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

export interface RawUpstream {
  port: number;
  url: string;
  server: net.Server;
  /** Requests heads received (one string per connection, what arrived before the script answered). */
  heads: string[];
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** A raw TCP upstream: for each connection, once a request head has arrived, `script` acts on the socket. */
export async function startRawUpstream(
  script: (socket: net.Socket, head: string) => void,
  port = 0,
): Promise<RawUpstream> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    let answered = false;
    socket.on('data', (c: Buffer) => {
      if (answered) return;
      buf += c.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        answered = true;
        heads.push(buf);
        script(socket, buf);
      }
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    server,
    heads,
    connections: () => countConnections(server),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Client connections the engine's (first) listener holds right now. */
export function listenerConnections(gh: Gatehouse): Promise<number> {
  // The listener map is private; tests read it to prove no socket is leaked.
  const listeners = (gh as unknown as { listeners: Map<string, { runtime: { server: net.Server } }> })
    .listeners;
  const entry = [...listeners.values()][0];
  return entry ? countConnections(entry.runtime.server) : Promise.resolve(0);
}

/** Poll `check` every 50 ms until it returns true or `ms` passes; returns the last result. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A free port with nothing listening on it (bound then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
