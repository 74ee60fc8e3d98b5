// One client connection speaking HTTP/1.1, read by our strict request reader instead of node's
// llhttp binding. One exchange at a time: pipelined bytes wait until the response before them is
// complete. Timeouts are not timers per request: the listener sweeps its connections (acceptor.ts),
// reading the phase and when it began.
import type { Socket } from 'node:net';
import type { RequestHead } from '../../http1/request-head.js';
import { RequestReader, type RequestEvents } from '../../http1/request-reader.js';
import { HttpParseError } from '../../http1/syntax.js';
import { writeAtTurnEnd, type TurnEndWriter } from '../../util/write-batch.js';
import { H1Request, type BodySource } from './request.js';
import { StallWatch } from './io-timeouts.js';
import { H1Response, type ResponseOwner } from './response.js';

export const enum Phase {
  /** Accepted, nothing received yet (header timeout). */
  Fresh,
  /** Between requests (keep-alive timeout). */
  Idle,
  /** Inside a request head (header timeout). */
  Head,
  /** Inside a request body (request and body-read timeouts; send timeout for an early response). */
  Body,
  /** The request is in; its response is under way (send timeout; otherwise the upstream's apply). */
  Waiting,
  /** The last response is written; reading what the client still sends until it closes (linger). */
  Closing,
  /** Handed over to a tunnel (upgrade). */
  Detached,
}

/** What the server does with what a connection reads. */
export interface ConnectionHandlers {
  request(req: H1Request, res: H1Response): void;
  upgrade(req: H1Request, res: H1Response, socket: Socket, head: Buffer): void;
  /** A request the reader refused, a timeout, a CONNECT: answer with the engine's JSON error and close. */
  clientError(conn: H1Connection, kind: ClientErrorKind): void;
}

export type ClientErrorKind = 'bad_request' | 'header_too_large' | 'request_timeout';

export interface ConnectionLimits {
  maxHeaderSize: number;
  /** 0: unlimited. */
  maxRequests: number;
  keepAliveSeconds: number;
}

/** Pipelined bytes held while a response is under way before reading from the socket stops. */
const MAX_HELD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class H1Connection implements RequestEvents, BodySource, ResponseOwner, TurnEndWriter {
  phase = Phase.Fresh;
  /** When the phase's clock started (Date.now()). */
  since: number;
  /** Bytes of the request under way (head and body), and since when they count (Date.now(); -1
   *  while the engine does not read): the minimum data rate's measure (acceptor.ts). */
  rateBytes = 0;
  rateSince = -1;
  /** Bytes received on this connection, ever: the body timeout's progress counter. */
  received = 0;
  /** Reads of the request body and writes of the response, watched for stalls by the sweep. */
  readonly readStall = new StallWatch();
  readonly sendStall = new StallWatch();
  requests = 0;
  readonly keepAliveSeconds: number;
  private readonly reader: RequestReader;
  private req: H1Request | undefined;
  private res: H1Response | undefined;
  /** Bytes after a complete request, kept until its response is done. */
  private held: Buffer = EMPTY;
  private feeding = false;
  /** The request just read asks for an upgrade: the bytes after its head are the tunnel's. */
  private upgrading = false;
  /** Reading stopped: the body's consumer is full, or pipelined bytes are held. */
  private paused = false;
  /** The client ended its side (FIN). */
  private ended = false;
  /** The body's remaining bytes are read and dropped (the response was done before the body). */
  private discarding = false;
  private closed = false;
  private stopped = false;
  /** Bytes the reader took for the request under way (the next one's are counted after next()). */
  private requestBytes = 0;
  /** Writes of the response under way waiting for the end of the event-loop turn. */
  private readonly queued: Uint8Array[] = [];
  private taken = 0;

  constructor(
    readonly socket: Socket,
    private readonly handlers: ConnectionHandlers,
    private readonly limits: ConnectionLimits,
  ) {
    this.since = Date.now();
    this.keepAliveSeconds = limits.keepAliveSeconds;
    this.reader = new RequestReader(this, limits.maxHeaderSize);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  get lastRequest(): boolean {
    return this.limits.maxRequests > 0 && this.requests >= this.limits.maxRequests;
  }

  /** Between requests with nothing in flight: safe to close (drain, reload). */
  get idle(): boolean {
    return this.phase === Phase.Idle || this.phase === Phase.Fresh;
  }

  /** The request in progress, if its response has not been completed. */
  get response(): H1Response | undefined {
    return this.res;
  }

  // --- socket events ---

  private readonly onData = (data: Buffer): void => {
    if (this.phase === Phase.Closing) return; // lingering: drop what the client still sends
    if (this.phase === Phase.Waiting) {
      this.hold(data);
      return;
    }
    if (this.phase === Phase.Idle || this.phase === Phase.Fresh) this.beginRequest();
    this.rateBytes += data.length;
    this.received += data.length;
    this.feed(data);
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    const p = this.phase;
    // Between requests, or lingering: the client is done, so are we.
    if (p === Phase.Idle || p === Phase.Fresh || p === Phase.Closing) this.socket.end();
    // Inside a request, or waiting for its response: the client gave up (nginx's 499, node's abort);
    // the upstream exchange is cut through the response's 'close'.
    else if (p !== Phase.Detached) this.socket.destroy();
  };

  readonly onWritten = (err?: Error | null): void => {
    this.res?.written(err);
  };

  queueWrite(data: Uint8Array): void {
    // Queued before the writer is registered: registering may flush at once (a full turn).
    if (this.queued.push(data) === 1) writeAtTurnEnd(this);
  }

  flushWrites(): void {
    const q = this.queued;
    const socket = this.socket;
    // The queue holds the writes of one response: the next begins once they are done. A write's
    // completion can finish the response and run what follows (close(), a pipelined request answered
    // at once) and so call here again: each write is taken from the queue before it is made.
    while (this.taken < q.length) {
      const data = q[this.taken++]!;
      if (socket.destroyed) continue; // dropped with the connection
      socket.write(data);
      this.res?.wrote();
    }
    q.length = 0;
    this.taken = 0;
  }

  private readonly onDrain = (): void => {
    this.res?.emit('drain');
  };

  private readonly onError = (): void => {
    // 'close' follows; nothing to answer on a broken socket.
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.stopReading();
    const req = this.req;
    const res = this.res;
    this.req = undefined;
    this.res = undefined;
    this.held = EMPTY;
    if (req && !req.destroyed) {
      if (!req.complete) {
        req.aborted = true;
        req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      } else req.destroy();
    }
    res?.abort();
  };

  // --- reading ---

  private feed(data: Buffer): void {
    this.feeding = true;
    try {
      while (data.length > 0 && !this.closed) {
        const r = this.reader.execute(data);
        if (r instanceof HttpParseError) {
          this.refuse(r);
          return;
        }
        if (this.stopped) return;
        this.requestBytes += r;
        if (this.upgrading) {
          this.startUpgrade(data.subarray(r));
          return;
        }
        if (r >= data.length) return;
        // A request is complete and more bytes follow: the next request's, once this one is answered.
        data = data.subarray(r);
        if (this.phase === Phase.Waiting || this.phase === Phase.Closing) {
          if (this.phase === Phase.Waiting) this.hold(data);
          return;
        }
        // The response was already done (answered before the body ended): go on at once.
        this.beginRequest();
      }
    } finally {
      this.feeding = false;
    }
  }

  private hold(data: Buffer): void {
    this.held = this.held.length === 0 ? data : Buffer.concat([this.held, data]);
    if (this.held.length > MAX_HELD) this.pause();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.rateSince = -1;
      this.socket.pause();
    }
  }

  private resume(): void {
    if (this.paused && !this.closed) {
      this.paused = false;
      // The rate is measured afresh from here, grace included.
      this.rateSince = Date.now();
      this.rateBytes = 0;
      this.socket.resume();
    }
  }

  resumeBody(): void {
    if (this.phase === Phase.Body) this.resume();
  }

  /** The next request's first bytes are about to be read: its clocks start. */
  private beginRequest(): void {
    this.phase = Phase.Head;
    this.since = this.rateSince = Date.now();
    this.requestBytes = 0;
    this.rateBytes = 0;
  }

  /** No more requests on this connection: the reader's events stop, feed() returns. */
  private stopReading(): void {
    this.stopped = true;
    this.reader.stop();
  }

  private refuse(err: HttpParseError): void {
    this.stopReading();
    const kind: ClientErrorKind = err.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large' : 'bad_request';
    this.handlers.clientError(this, kind);
  }

  // --- reader events ---

  onHead(head: RequestHead): void {
    this.requests++;
    const req = new H1Request(this.socket, head, this);
    const res = new H1Response(req, this, head.keepAlive && !this.ended);
    this.req = req;
    this.res = res;
    this.phase = Phase.Body;
    if (head.upgrade) {
      // An upgrade request with a body: where the body ends and the tunnel starts is for the upstream
      // to decide, which invites smuggling; refused (nginx sends such a body on, Node read it first).
      if (head.contentLength > 0 || head.chunked) {
        this.stopReading();
        this.handlers.clientError(this, 'bad_request');
        return;
      }
      this.upgrading = true;
      return;
    }
    if (head.method === 'CONNECT') {
      this.stopReading();
      this.handlers.clientError(this, 'bad_request');
      return;
    }
    if (head.expect !== '') {
      if (head.expect === '100-continue' && head.versionMinor === 1) req.expectContinue = true;
      else {
        // An unknown expectation: 417 (RFC 9110 §10.1.1), the body skipped, the connection kept (as node).
        res.writeHead(417, { 'content-length': 0 });
        res.end();
        this.discarding = true;
        return;
      }
    }
    this.handlers.request(req, res);
  }

  onBody(chunk: Buffer): void {
    const req = this.req;
    if (this.discarding || req === undefined) return;
    if (!req.push(chunk)) this.pause();
  }

  onComplete(trailers: string[] | null): void {
    const req = this.req;
    this.discarding = false;
    if (req !== undefined && !req.complete) req.endBody(trailers);
    if (this.res === undefined || this.res.writableFinished) this.next();
    else {
      this.phase = Phase.Waiting;
      // Reading continues only to hold pipelined bytes (bounded); the reader waits for next().
      this.resume();
    }
  }

  // --- the response side ---

  responseDone(res: H1Response): void {
    if (res !== this.res || this.closed) return;
    res.bytesIn = this.requestBytes;
    if (!res.shouldKeepAlive) {
      this.close();
      return;
    }
    if (this.phase === Phase.Waiting || (this.req?.complete ?? true)) {
      this.next();
      if (!this.feeding && this.held.length > 0) {
        const data = this.held;
        this.held = EMPTY;
        this.beginRequest();
        this.feed(data);
      }
      if (this.closed) return;
      if (this.ended && this.phase === Phase.Idle) this.socket.end();
      // Held bytes may have paused reading; whatever phase we are in now reads on.
      else this.resume();
      return;
    }
    // Answered before the body ended (an error, a plugin's answer): read and drop the rest of the body.
    this.discarding = true;
    this.resume();
  }

  /** Ready for the next request. */
  private next(): void {
    const req = this.req;
    this.req = undefined;
    this.res = undefined;
    if (req && !req.destroyed && req.listenerCount('close') > 0) req.destroy();
    this.reader.next();
    this.phase = Phase.Idle;
    this.since = Date.now();
  }

  /** End the connection after the last response: FIN now, then drop what the client still sends
   *  until it closes too or the linger ends (closing with unread bytes would reset the connection
   *  and could destroy the response before the client read it). */
  close(): void {
    if (this.closed || this.phase === Phase.Closing) return;
    this.phase = Phase.Closing;
    this.since = Date.now();
    this.held = EMPTY;
    this.stopReading();
    const req = this.req;
    if (req && !req.complete && !req.destroyed) req.destroy();
    this.resume();
    this.flushWrites();
    this.socket.end();
  }

  /** Answer a request that cannot be served with raw bytes (the head was refused), then close. */
  answerAndClose(response: Buffer): void {
    if (this.closed || this.phase === Phase.Closing || this.phase === Phase.Detached) return;
    this.flushWrites();
    this.socket.write(response);
    this.close();
  }

  /** Close now if between requests (drain, keep-alive timeout). */
  closeIfIdle(): boolean {
    if (!this.idle) return false;
    this.socket.destroy();
    return true;
  }

  private startUpgrade(rest: Buffer): void {
    const req = this.req!;
    const res = this.res!;
    this.flushWrites();
    this.upgrading = false;
    this.phase = Phase.Detached;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('drain', this.onDrain);
    this.resume();
    req.endBody(null);
    res.bytesIn = this.requestBytes;
    this.handlers.upgrade(req, res, this.socket, rest);
  }
}
