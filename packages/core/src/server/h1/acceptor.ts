// The HTTP/1.1 connections of one listener (plain or TLS): accepted here, watched by one sweep
// instead of a timer per connection or request — header, request, body-read, send and keep-alive
// timeouts and the linger after a last response — and closed together when the listener drains.
import type { Socket } from 'node:net';
import { reasonPhrase } from '../../http1/reason-phrases.js';
import type { ErrorCode } from '../../errors/codes.js';
import { engineError, renderError, type ErrorRenderer } from '../../errors/renderer.js';
import { sendError } from '../errors.js';
import { H1Connection, Phase, type ClientErrorKind, type ConnectionHandlers } from './connection.js';
import { resetConnection, sendProgress } from './io-timeouts.js';
import type { H1Request } from './request.js';
import type { H1Response } from './response.js';

export interface H1Limits {
  maxHeaderSize: number;
  /** 0: none. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Longest wait between two reads of a request body (nginx client_body_timeout); 0: none. */
  clientBodyTimeoutMs: number;
  /** Longest wait for the client to take a response write (nginx send_timeout); 0: none. */
  sendTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Send `Keep-Alive: timeout=`. */
  keepAliveHeader: boolean;
  maxRequestsPerConnection: number;
  /** Bytes per second a request head and body must average once the grace has passed (0: off). */
  minRequestDataRate: number;
  minRequestDataRateGraceMs: number;
}

export interface H1Handlers {
  request(req: H1Request, res: H1Response): void;
  upgrade(req: H1Request, res: H1Response, socket: Socket, head: Buffer): void;
  /** How to render an error on this listener: for `res`'s request when it has one, else the default server's. */
  errorRenderer(res: H1Response | undefined): ErrorRenderer;
  /** Why the connection of `res` is answered or cut by the connection itself (a timeout, a bad
   *  request): recorded for its access log before the response closes. */
  connectionError(res: H1Response, code: string): void;
}

/** How long a closing connection may keep sending before it is destroyed (nginx lingering_timeout). */
const LINGER_MS = 5000;

export class H1Acceptor implements ConnectionHandlers {
  readonly connections = new Set<H1Connection>();
  private timer: NodeJS.Timeout | undefined;
  private readonly interval: number;

  constructor(
    private readonly limits: H1Limits,
    private readonly handlers: H1Handlers,
  ) {
    const timeouts = [
      limits.headersTimeoutMs,
      limits.requestTimeoutMs,
      limits.clientBodyTimeoutMs,
      limits.sendTimeoutMs,
      limits.keepAliveTimeoutMs,
      limits.minRequestDataRate > 0 ? limits.minRequestDataRateGraceMs : 0,
    ].filter((t) => t > 0);
    // Close to the configured time without sweeping often: a fifth of the shortest timeout, 25–500 ms.
    this.interval = Math.max(25, Math.min(500, Math.floor(Math.min(...timeouts, LINGER_MS) / 5)));
  }

  accept(socket: Socket): H1Connection {
    const conn = new H1Connection(socket, this, {
      maxHeaderSize: this.limits.maxHeaderSize,
      maxRequests: this.limits.maxRequestsPerConnection,
      keepAliveSeconds: this.limits.keepAliveHeader ? Math.floor(this.limits.keepAliveTimeoutMs / 1000) : 0,
    });
    this.connections.add(conn);
    socket.once('close', () => {
      this.connections.delete(conn);
      if (this.connections.size === 0) this.stopSweep();
    });
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.interval);
      this.timer.unref();
    }
    return conn;
  }

  /** Close every connection that is between requests. */
  closeIdle(): void {
    for (const c of this.connections) c.closeIfIdle();
  }

  stopSweep(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  request(req: H1Request, res: H1Response): void {
    this.handlers.request(req, res);
  }

  upgrade(req: H1Request, res: H1Response, socket: Socket, head: Buffer): void {
    this.handlers.upgrade(req, res, socket, head);
  }

  clientError(conn: H1Connection, kind: ClientErrorKind): void {
    const res = conn.response;
    if (res !== undefined) this.handlers.connectionError(res, kind);
    if (res !== undefined && res.headersSent) {
      // Mid-response (a bad chunk in an upload after the answer began): the response cannot be completed.
      conn.flushWrites();
      conn.socket.destroy();
      return;
    }
    if (res !== undefined && !res.destroyed) {
      sendError(res as never, this.handlers.errorRenderer(res), engineError(kind), true);
      return;
    }
    conn.answerAndClose(rawError(this.handlers.errorRenderer(undefined), kind));
  }

  /** Kestrel's rule: past the grace, the request's bytes so far over the time it has been read. */
  private tooSlow(c: H1Connection, now: number): boolean {
    if (c.rateSince < 0) return false; // reading paused by the engine: not the client's time
    const ms = now - c.rateSince;
    return (
      ms >= this.limits.minRequestDataRateGraceMs && c.rateBytes * 1000 < this.limits.minRequestDataRate * ms
    );
  }

  /** nginx send_timeout: the response's writes wait on a client that stopped reading. The connection
   *  is cut; its response's close aborts the upstream exchange. */
  private sendStalled(c: H1Connection, now: number): boolean {
    const progress = sendProgress(c.socket);
    if (progress < 0) {
      c.sendStall.reset();
      return false;
    }
    if (c.sendStall.stalledFor(progress, now) < this.limits.sendTimeoutMs) return false;
    const res = c.response;
    if (res !== undefined) this.handlers.connectionError(res, 'send_timeout');
    resetConnection(c.socket);
    return true;
  }

  /** nginx client_body_timeout: no body bytes for that long while the engine is reading. */
  private bodyStalled(c: H1Connection, now: number): boolean {
    if (c.rateSince < 0) {
      c.readStall.reset(); // reading paused by the engine: not the client's time
      return false;
    }
    return c.readStall.stalledFor(c.received, now) >= this.limits.clientBodyTimeoutMs;
  }

  private sweep(): void {
    const now = Date.now();
    const l = this.limits;
    const rate = l.minRequestDataRate;
    for (const c of this.connections) {
      const elapsed = now - c.since;
      // A response may be under way while the body is still read (an early answer) or after it.
      if (
        l.sendTimeoutMs > 0 &&
        (c.phase === Phase.Body || c.phase === Phase.Waiting) &&
        this.sendStalled(c, now)
      )
        continue;
      switch (c.phase) {
        case Phase.Fresh:
        case Phase.Head:
          if (l.headersTimeoutMs > 0 && elapsed >= l.headersTimeoutMs) this.clientError(c, 'request_timeout');
          else if (rate > 0 && c.phase === Phase.Head && this.tooSlow(c, now))
            this.clientError(c, 'request_timeout');
          break;
        case Phase.Body:
          if (l.requestTimeoutMs > 0 && elapsed >= l.requestTimeoutMs) this.clientError(c, 'request_timeout');
          else if (l.clientBodyTimeoutMs > 0 && this.bodyStalled(c, now))
            this.clientError(c, 'request_timeout');
          else if (rate > 0 && this.tooSlow(c, now)) this.clientError(c, 'request_timeout');
          break;
        case Phase.Idle:
          if (l.keepAliveTimeoutMs > 0 && elapsed >= l.keepAliveTimeoutMs) c.socket.destroy();
          break;
        case Phase.Closing:
          if (elapsed >= LINGER_MS) c.socket.destroy();
          break;
        default:
          break;
      }
    }
  }
}

/** A whole error response, for a request that never got a response object. */
function rawError(renderer: ErrorRenderer, code: ErrorCode): Buffer {
  const { status, headers, body } = renderError(renderer, engineError(code));
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return Buffer.concat([Buffer.from(`${head}connection: close\r\n\r\n`, 'latin1'), body]);
}
