// One listening socket: plain HTTP/1.1 (optionally h2c), or TLS with HTTP/2 and HTTP/1.1 via ALPN.
// HTTP/1.1 is served by our own connections (h1/), which keep the connection guard: header size,
// header/request/keep-alive timeouts, JSON answers to refused requests; max connections is the
// listening socket's. HTTP/2 sessions are node's http2, loaded only by a listener that offers it;
// node:tls only by a TLS listener (util/lazy-builtin.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import net, { type Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { ListenConfig } from '../config/types.js';
import type { ResolvedLimits } from '../config/compile.js';
import { RequestContext } from './request-context.js';
import type { HandlerDeps } from './request-handler.js';
import { defaultServer } from './request-handler.js';
import { errorRendererOf } from './errors.js';
import type { CompiledServer, Snapshot } from '../config/compile.js';
import { H1Acceptor } from './h1/acceptor.js';
import type { H1Request } from './h1/request.js';
import type { H1Response } from './h1/response.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

const tlsModule = lazyBuiltin('node:tls');

/** A plain or TLS listening socket (HTTP/1.1, and HTTP/2 by ALPN), or node's h2c server. */
type AnyServer = net.Server | http2.Http2Server;

export interface ListenerRuntime {
  key: string;
  spec: ListenConfig;
  server: AnyServer;
  tls: boolean;
  connections: Set<Socket>;
  /** Requests in flight on this listener. */
  inflight: number;
  address(): { address: string; port: number };
  /** Close the HTTP/1 connections that are between requests (drain, reload). */
  closeIdle(): void;
}

export function listenerKey(l: ListenConfig): string {
  return `${l.address ?? '127.0.0.1'}|${l.port}|${l.tls ? 'tls' : 'plain'}|${l.tls && l.http2 !== false ? 'h2' : ''}|${l.h2c ? 'h2c' : ''}`;
}

export interface ListenerOptions {
  spec: ListenConfig;
  limits: ResolvedLimits;
  deps: HandlerDeps;
  serversFor: (snap: Snapshot) => CompiledServer[];
  onRequest: (
    req: IncomingMessage | http2.Http2ServerRequest,
    res: ServerResponse | http2.Http2ServerResponse,
  ) => void;
  /** HTTP/1.1 upgrade requests (the engine's upgrade handler). */
  onUpgrade: (req: H1Request, res: H1Response, socket: Socket, head: Buffer) => void;
  tlsOptions?: TlsOptions;
  onConnectionCount?: (delta: number) => void;
}

export async function openListener(o: ListenerOptions): Promise<ListenerRuntime> {
  const { spec, limits } = o;
  const tls = spec.tls === true;
  const h2Settings = { maxSessionMemory: 64, settings: { maxHeaderListSize: limits.maxHeaderSize } };
  let server: AnyServer;
  let acceptor: H1Acceptor | undefined;
  if (tls) {
    // TLS is ours to accept; ALPN decides who speaks: HTTP/2 sessions go to node's http2 server (never
    // listening itself), HTTP/1.1 to our connections.
    const h2 = spec.http2 !== false;
    const h1 = (acceptor = ownHttp1(o, true));
    const tlsServer = tlsModule().createServer({
      ...(o.tlsOptions ?? {}),
      allowHalfOpen: true,
      noDelay: true,
      ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    });
    const sessions = h2
      ? (await import('node:http2')).createSecureServer(
          { allowHTTP1: false, ...h2Settings },
          o.onRequest as never,
        )
      : undefined;
    sessions?.on('session', (session) => tlsServer.emit('session', session));
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      if (sessions && socket.alpnProtocol === 'h2') sessions.emit('secureConnection', socket);
      else h1.accept(socket);
    });
    // Plain HTTP on a TLS port gets nginx's answer, a 400 in plain text on the raw socket (the TLS layer
    // has read nothing it could answer in), then the close; any other failed handshake closes quietly.
    tlsServer.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      if ((err as NodeJS.ErrnoException).code !== 'ERR_SSL_HTTP_REQUEST' || !raw || raw.destroyed)
        return void socket.destroy();
      raw.on('error', () => undefined);
      raw.end(plainHttpOnTlsPort());
      setTimeout(() => raw.destroy(), 1000).unref();
    });
    server = tlsServer;
  } else if (spec.h2c) {
    const h2c = (await import('node:http2')).createServer(h2Settings, o.onRequest as never);
    // An h2c session has no HTTP/1 timers: close a session idle for longer than the request timeout.
    h2c.setTimeout(limits.requestTimeoutMs || limits.keepAliveTimeoutMs);
    server = h2c;
  } else {
    const h1 = (acceptor = ownHttp1(o, false));
    server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => h1.accept(socket));
  }
  (server as net.Server).maxConnections = limits.maxConnections;

  const connections = new Set<Socket>();
  const runtime: ListenerRuntime = {
    key: listenerKey(spec),
    spec,
    server,
    tls,
    connections,
    inflight: 0,
    address() {
      const a = server.address();
      return typeof a === 'object' && a ? { address: a.address, port: a.port } : { address: '', port: 0 };
    },
    closeIdle() {
      acceptor?.closeIdle();
    },
  };
  if (acceptor) server.once('close', () => acceptor.stopSweep());
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.add(socket);
    o.onConnectionCount?.(1);
    socket.once('close', () => {
      connections.delete(socket);
      o.onConnectionCount?.(-1);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: spec.address ?? '127.0.0.1', port: spec.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return runtime;
}

/** Our HTTP/1.1 connections for a listener, handing requests and upgrades to the engine. */
function ownHttp1(o: ListenerOptions, tls: boolean): H1Acceptor {
  const l = o.limits;
  return new H1Acceptor(
    {
      maxHeaderSize: l.maxHeaderSize,
      headersTimeoutMs: l.headersTimeoutMs,
      requestTimeoutMs: l.requestTimeoutMs,
      clientBodyTimeoutMs: l.clientBodyTimeoutMs,
      sendTimeoutMs: l.sendTimeoutMs,
      keepAliveTimeoutMs: l.keepAliveTimeoutMs,
      keepAliveHeader: l.keepAliveHeader,
      maxRequestsPerConnection: l.maxRequestsPerConnection,
      minRequestDataRate: l.minRequestDataRate,
      minRequestDataRateGraceMs: l.minRequestDataRateGraceMs,
    },
    {
      // The engine and plugins see node's request/response API; these classes provide it.
      request: (req, res) => o.onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse),
      upgrade: o.onUpgrade,
      errorRenderer: (res) => {
        const ctx = res?.closeHandler;
        if (ctx instanceof RequestContext && (ctx.route || ctx.server)) return errorRendererOf(ctx);
        const snap = o.deps.snapshot();
        return defaultServer(o.serversFor(snap))?.errors ?? snap.errors;
      },
      connectionError: (res, code) => {
        const ctx = res.closeHandler;
        if (ctx instanceof RequestContext) ctx.error ||= code;
      },
    },
  );
}

const PLAIN_HTTP_BODY = JSON.stringify({
  error: 'bad_request',
  message: 'plain HTTP request sent to a TLS port',
  status: 400,
});

/** The answer to a plain-HTTP request on a TLS port (nginx: 400 "The plain HTTP request was sent to HTTPS port"). */
function plainHttpOnTlsPort(): string {
  return (
    'HTTP/1.1 400 Bad Request\r\n' +
    `Date: ${new Date().toUTCString()}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${PLAIN_HTTP_BODY.length}\r\n` +
    'Connection: close\r\n\r\n' +
    PLAIN_HTTP_BODY
  );
}
