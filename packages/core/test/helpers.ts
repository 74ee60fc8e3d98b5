// Test helpers: a recording upstream and an engine on ephemeral loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import net from 'node:net';
import { createGatehouse, type Gatehouse } from '../src/gatehouse.js';
import type { GatehouseConfig } from '../src/config/types.js';
import { createLogger } from '../src/observability/logger.js';
import { teeChildOutput, teeDestination, teeLevel } from '../../../test/helpers/log-tee.js';
import { Writable } from 'node:stream';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
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

/** An upstream that records each request (with its full body unless `stream` handles it) and answers via `handler`. */
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
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

export interface Engine {
  gh: Gatehouse;
  port: number;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

/** Start an engine; `servers[0].listen` defaults to one ephemeral loopback port. */
export async function startEngine(
  config: Omit<GatehouseConfig, 'servers'> & {
    servers: Array<
      Partial<GatehouseConfig['servers'][number]> & { routes: GatehouseConfig['servers'][number]['routes'] }
    >;
  },
): Promise<Engine> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const full = {
    ...config,
    servers: config.servers.map((s) => ({ listen: [{ address: '127.0.0.1', port: 0 }], ...s })),
  } as GatehouseConfig;
  const gh = createGatehouse({
    config: full,
    logger: createLogger(
      { level: teeLevel(config.log?.level ?? 'warn') },
      teeDestination(config.log?.level ?? 'warn', sink),
    ),
    accessLogStream: teeDestination('trace', sink),
  });
  await gh.start();
  const port = gh.addresses()[0]!.port;
  return { gh, port, url: `http://127.0.0.1:${port}`, logs, close: () => gh.close(1000) };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

/** One request with node:http; `agent: false` unless given. */
export function request(
  url: string,
  opts: http.RequestOptions & { body?: Buffer | string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
          text: body.toString(),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes and collect everything until the server closes or `ms` passes. */
export function rawRequest(
  port: number,
  data: string | Buffer,
  ms = 2000,
  later: Array<[number, string | Buffer]> = [],
): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(data);
      for (const [delay, more] of later) setTimeout(() => s.writable && s.write(more), delay).unref();
    });
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const t = setTimeout(done, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', done);
    s.on('error', done);
  });
}

export function proxyRoute(
  upstream: string,
  extra: Record<string, unknown> = {},
): GatehouseConfig['servers'][number]['routes'][number] {
  return {
    match: { prefix: '/' },
    action: { type: 'proxy', upstream, ...extra },
  } as GatehouseConfig['servers'][number]['routes'][number];
}

/** The CLI entry, run from source. */
export const CLI = join(import.meta.dirname, '../src/cli/main.ts');

/** Run `gatehouse serve --config <file>` in a child process; resolves once it logs its listening port
 *  (the config must log at info level). The caller kills it. */
export function spawnServe(
  file: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--config', file],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      teeChildOutput(c);
      out += c;
      const m = /"port":(\d+).*"msg":"listening"/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on('exit', () => reject(new Error(`gatehouse exited early: ${out}`)));
  });
}
