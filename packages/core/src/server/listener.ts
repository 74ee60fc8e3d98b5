// One listening socket: plain HTTP/1.1 (optionally h2c), or TLS with HTTP/2 and HTTP/1.1 via ALPN.
// The connection guard lives here: max connections, header size, header/request/keep-alive
// timeouts, and JSON answers to requests node's parser refuses.
import http, { ServerResponse, type IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { ListenConfig } from '../config/types.js';
import type { ResolvedLimits } from '../config/compile.js';
import { errorBody, sendError, STATUS, type ErrorCode } from './errors.js';
import { RequestContext } from './request-context.js';
import { markUpgrade } from './upgrade.js';
import type { HandlerDeps } from './request-handler.js';
import { handleContext } from './request-handler.js';
import type { CompiledServer, Snapshot } from '../config/compile.js';

export type AnyServer = http.Server | https.Server | http2.Http2SecureServer | http2.Http2Server;

export interface ListenerRuntime {
  key: string;
  spec: ListenConfig;
  server: AnyServer;
  tls: boolean;
  connections: Set<Socket>;
  /** Requests in flight on this listener. */
  inflight: number;
  address(): { address: string; port: number };
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
  tlsOptions?: TlsOptions;
  onConnectionCount?: (delta: number) => void;
}

export async function openListener(o: ListenerOptions): Promise<ListenerRuntime> {
  const { spec, limits } = o;
  const tls = spec.tls === true;
  const h1Options: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs || 0,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks header/request timeouts on this tick (default 30 s): slow clients must be cut promptly.
    connectionsCheckingInterval: 500,
    // Host is checked by the request handler, which answers with the engine's JSON error.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    noDelay: true,
  };
  let server: AnyServer;
  if (tls) {
    const tlsOptions = o.tlsOptions ?? {};
    if (spec.http2 !== false) {
      server = http2.createSecureServer(
        {
          ...tlsOptions,
          ...h1Options,
          allowHTTP1: true,
          ALPNProtocols: ['h2', 'http/1.1'],
          maxSessionMemory: 64,
          settings: { maxHeaderListSize: limits.maxHeaderSize },
        } as http2.SecureServerOptions,
        o.onRequest as never,
      );
    } else {
      server = https.createServer(
        { ...tlsOptions, ...h1Options, ALPNProtocols: ['http/1.1'] },
        o.onRequest as never,
      );
    }
  } else if (spec.h2c) {
    server = http2.createServer(
      { maxSessionMemory: 64, settings: { maxHeaderListSize: limits.maxHeaderSize } },
      o.onRequest as never,
    );
  } else {
    server = http.createServer(h1Options, o.onRequest as never);
  }
  const hs = server as http.Server;
  hs.maxConnections = limits.maxConnections;
  // Node drops fields after the 1000th by default (a duplicate Host there would go unseen); the header
  // size limit bounds the head instead.
  hs.maxHeadersCount = 0;
  if (limits.maxRequestsPerConnection > 0) hs.maxRequestsPerSocket = limits.maxRequestsPerConnection;
  // HTTP/1 options are honoured by the HTTP/1 fallback of an HTTP/2 server only partly; set them on the object too.
  hs.headersTimeout = limits.headersTimeoutMs;
  hs.requestTimeout = limits.requestTimeoutMs;
  hs.keepAliveTimeout = limits.keepAliveTimeoutMs;

  // An h2c session has no HTTP/1 timers: close a session idle for longer than the request timeout.
  if (!tls && spec.h2c)
    (server as http2.Http2Server).setTimeout(limits.requestTimeoutMs || limits.keepAliveTimeoutMs);

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
  };
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.add(socket);
    o.onConnectionCount?.(1);
    // Node's header timer starts with a request line: a connection that sends nothing (or stalls in the
    // request line) is closed after the headers timeout instead of holding a slot until maxConnections.
    if (limits.headersTimeoutMs > 0) {
      // Slightly later than Node's own check (500 ms tick), which answers 408 once a request line arrived.
      const timer = setTimeout(
        () =>
          answerClientError(
            Object.assign(new Error('timeout'), { code: 'ERR_HTTP_HEADERS_TIMEOUT' }),
            socket,
          ),
        limits.headersTimeoutMs + 1000,
      );
      timer.unref();
      firstRequestTimers.set(socket, timer);
    }
    socket.once('close', () => {
      connections.delete(socket);
      o.onConnectionCount?.(-1);
      clearTimeout(firstRequestTimers.get(socket));
    });
  });
  server.prependListener('request', (req: IncomingMessage) => {
    const timer = firstRequestTimers.get(req.socket);
    if (timer !== undefined) {
      clearTimeout(timer);
      firstRequestTimers.delete(req.socket);
    }
  });
  // A reverse proxy does not tunnel CONNECT.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    answerClientError(Object.assign(new Error('CONNECT'), { code: 'CONNECT' }), socket),
  );
  if (tls) {
    // Plain HTTP on a TLS port, or a failed handshake: nothing to answer in TLS; close quietly.
    server.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { expectContinue?: boolean }).expectContinue = true;
    o.onRequest(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const snap = o.deps.snapshot();
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => {
      if (res.statusCode !== 101) socket.end();
    });
    const ctx = new RequestContext(snap, req, res, tls);
    markUpgrade(ctx, { socket, head });
    handleContext(ctx, o.deps, o.serversFor(snap));
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

const firstRequestTimers = new WeakMap<object, NodeJS.Timeout>();

function clientErrorCode(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'header_too_large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT')
    return 'request_timeout';
  return 'bad_request';
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (pending) {
    // The error came mid-request (a bad chunk in the body, a body too slow): answer on the response if
    // nothing was sent yet.
    if (!pending.headersSent) sendError(pending, clientErrorCode(err), undefined, true);
    socket.destroy();
    return;
  }
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  if (err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const code = clientErrorCode(err);
  const body = errorBody(code);
  const status = STATUS[code];
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
