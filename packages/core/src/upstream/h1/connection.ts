// One HTTP/1.1 connection to an upstream: writes a request head and streams its body, parses the
// response with our strict reader (http1/) and hands it to the exchange's handler, with backpressure
// by pausing the socket. No pipelining: bytes the upstream sends beyond the response it owes
// desynchronise the connection, which is then dropped.
import type net from 'node:net';
import type { UpstreamHandler, UpstreamRequest } from '../dispatcher.js';
import { ResponseReader, type ResponseEvents } from '../../http1/response-reader.js';
import type { ResponseHead } from '../../http1/response-head.js';
import { newLease, returnReadBuffer, settle, type ReadLease } from './read-buffers.js';
import {
  socketHangUp,
  UpstreamRequestError,
  UpstreamResetError,
  UpstreamTimeoutError,
} from '../../errors/upstream.js';
import { writeAtTurnEnd, type TurnEndWriter } from '../../util/write-batch.js';
import { requestHead, type BodyFraming } from './request-head.js';

/** One request on its way: what the pool queues and a connection serves. */
export interface Job {
  req: UpstreamRequest;
  handler: UpstreamHandler;
  conn: H1Connection | undefined;
  done: boolean;
  /** Already sent once on a reused connection that turned out to be closed. */
  retried: boolean;
  /** When it began to wait for a connection (Date.now()), if it had to. */
  queuedAt: number;
  /** The resume callback handed to this job's handler: it acts only while the job is current. */
  resume?: () => void;
}

/** What a connection reports to its pool. */
export interface ConnectionOwner {
  /** The exchange is over and the connection may serve another. */
  release(conn: H1Connection): void;
  /** The connection is gone (closed, failed or handed over by an upgrade). */
  removed(conn: H1Connection): void;
  /** Send a job again on a fresh connection (stale keep-alive connection). */
  retry(job: Job): void;
}

export interface ConnectionSettings {
  maxHeaderSize: number;
  keepAliveTimeoutMs: number;
}

const EMPTY = Buffer.alloc(0);
const ignore = (): void => undefined;
/** How a kept-alive connection the upstream already closed fails a new request. */
const STALE = new Set(['UPSTREAM_CLOSED', 'ECONNRESET', 'EPIPE']);
const closedError = (): Error =>
  new UpstreamResetError('UPSTREAM_CLOSED', 'upstream closed the connection', { cause: socketHangUp() });
const notifyError = (handler: UpstreamHandler, err: Error): void => handler.onError?.(err);

export class H1Connection implements ResponseEvents, TurnEndWriter {
  /** Set by the pool while the connection serves a request. */
  inUse = false;
  private readonly reader: ResponseReader;
  private job: Job | undefined;
  /** The connection has carried at least one whole exchange (a failure may be a stale keep-alive). */
  private reused = false;
  private connected = false;
  private responseStarted = false;
  private headersDone = false;
  private completed = false;
  private upgraded = false;
  private keepAlive = false;
  private requestDone = false;
  private paused = false;
  /** Body pieces parsed while the handler is paused (one socket read can hold several). */
  private held: Buffer[] | undefined;
  /** Release callbacks of held chunks that are lent pooled memory. */
  private heldRelease: Map<Buffer, () => void> | undefined;
  /** The response completed while paused: finish on resume, reusing the connection if this says so. */
  private completeReusable = false;
  private trailers: string[] | null = null;
  private upgradeHead: { status: number; headers: string[] } | undefined;
  private body: NodeJS.ReadableStream | undefined;
  /** How the request body of the current job is framed (set with its head). */
  private readonly framing: BodyFraming = { expected: -1, chunked: false };
  private bodySent = 0;
  private readTimer: NodeJS.Timeout | undefined;
  private readTimeoutMs = 0;
  private readArmed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The pooled buffer of the read being processed, and how its chunks were handed on. */
  private readBuffer: Buffer | undefined;
  private lease: ReadLease | undefined;
  /** A chunk of the read buffer went to a handler that may keep it: the buffer leaves the pool. */
  private kept = false;
  /** The last lease made; once all its chunks are back (count 0) the next read reuses it. */
  private spareLease: ReadLease | undefined;
  /** The head of a request without a body, written at the end of the event-loop turn. */
  private queuedHead: Buffer | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly owner: ConnectionOwner,
    private readonly settings: ConnectionSettings,
  ) {
    this.reader = new ResponseReader(this, settings.maxHeaderSize);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The TCP/TLS connection is up (or failed: then the job fails, as undici reports connect errors). */
  onConnected(err: Error | null): void {
    if (err) return this.fail(err);
    this.connected = true;
  }

  /** Serve a job: write the request head and start its body. */
  start(job: Job): void {
    this.job = job;
    job.conn = this;
    this.responseStarted = false;
    this.headersDone = false;
    this.completed = false;
    this.keepAlive = false;
    this.requestDone = false;
    this.paused = false;
    this.held = undefined;
    this.heldRelease = undefined;
    this.trailers = null;
    this.bodySent = 0;
    const req = job.req;
    const head = requestHead(req, this.framing);
    if (head instanceof Error) return this.fail(head);
    this.reader.expect(req.method === 'HEAD', req.upgrade !== undefined);
    this.armRead(req.headersTimeout);
    const body = req.body;
    if (body === null || body === undefined) {
      // With the other requests of this turn (util/write-batch.ts): the upstream is woken once.
      this.queuedHead = head;
      writeAtTurnEnd(this);
      this.requestDone = true;
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(body);
      this.socket.uncork();
      this.requestDone = true;
    } else {
      this.socket.write(head);
      this.streamBody(body);
    }
  }

  flushWrites(): void {
    const head = this.queuedHead;
    if (head === undefined) return;
    this.queuedHead = undefined;
    if (!this.socket.destroyed) this.socket.write(head);
  }

  private streamBody(body: NodeJS.ReadableStream): void {
    this.body = body;
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    if ((body as { isPaused?: () => boolean }).isPaused?.()) body.resume();
  }

  private unhookBody(): void {
    const b = this.body;
    if (!b) return;
    this.body = undefined;
    b.removeListener('data', this.onBodyData);
    b.removeListener('end', this.onBodyEnd);
    b.removeListener('error', this.onBodyError);
    b.removeListener('close', this.onBodyClose);
    this.socket.removeListener('drain', this.onBodyDrain);
    if (!this.requestDone) {
      // The rest of a body the upstream did not wait for is read and dropped, so the client's
      // connection stays usable (as nginx discards it); its later errors are no longer ours.
      b.on('error', ignore);
      b.resume();
    }
  }

  private readonly onBodyData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    this.bodySent += buf.length;
    if (this.framing.expected >= 0 && this.bodySent > this.framing.expected) {
      this.fail(
        new UpstreamRequestError(
          'UPSTREAM_REQUEST_BODY_MISMATCH',
          'request body longer than its Content-Length',
        ),
      );
      return;
    }
    const s = this.socket;
    let ok: boolean;
    if (this.framing.chunked) {
      s.cork();
      s.write(`${buf.length.toString(16)}\r\n`, 'latin1');
      s.write(buf);
      ok = s.write('\r\n', 'latin1');
      s.uncork();
    } else ok = s.write(buf);
    if (!ok && this.body) {
      this.body.pause();
      s.once('drain', this.onBodyDrain);
    }
  };

  private readonly onBodyDrain = (): void => {
    this.body?.resume();
  };

  private readonly onBodyEnd = (): void => {
    if (!this.body) return;
    if (this.framing.chunked) this.socket.write('0\r\n\r\n', 'latin1');
    else if (this.framing.expected >= 0 && this.bodySent !== this.framing.expected) {
      this.fail(
        new UpstreamRequestError(
          'UPSTREAM_REQUEST_BODY_MISMATCH',
          'request body shorter than its Content-Length',
        ),
      );
      return;
    }
    this.requestDone = true;
    this.unhookBody();
  };

  private readonly onBodyError = (err: Error): void => {
    if (this.body) this.fail(err);
  };

  private readonly onBodyClose = (): void => {
    // A body that closes without 'end' was cut (client gone, limit hit): the upstream request is incomplete.
    if (this.body) this.fail(new UpstreamResetError('UPSTREAM_REQUEST_ABORTED', 'request body ended early'));
  };

  // ---- response ----

  /** A read into a pooled buffer (plain sockets): processed like 'data', then the buffer is reused
   *  unless a body chunk of it was lent to the handler. */
  onRead(nread: number, buffer: Buffer): boolean {
    this.readBuffer = buffer;
    this.lease = undefined;
    this.kept = false;
    this.onSocketData(buffer.subarray(0, nread));
    this.readBuffer = undefined;
    // (Set by deliver() during the call above.)
    const lease = this.lease as ReadLease | undefined;
    this.lease = undefined;
    if (this.kept as boolean) {
      if (lease) lease.count = -1; // never returned
    } else if (!lease) returnReadBuffer(buffer);
    else settle(lease); // the read's own hold: the buffer returns with the last chunk
    return true; // pausing is explicit (pause())
  }

  private readonly onSocketData = (data: Buffer): void => {
    const job = this.job;
    if (!job) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.close();
      return;
    }
    this.responseStarted = true;
    if (this.readArmed) this.readTimer!.refresh();
    const ret = this.reader.execute(data);
    if (this.job !== job) return; // failed or aborted inside a callback
    if (typeof ret !== 'number') return this.fail(ret);
    if (this.upgraded) return this.handOver(ret < data.length ? data.subarray(ret) : EMPTY);
    // Bytes after the response: the upstream is out of step (we never pipeline).
    if (this.completed) this.complete(ret === data.length);
    job.handler.onReadEnd?.();
  };

  private deliver(job: Job, chunk: Buffer): void {
    const pooled = this.readBuffer;
    let release: (() => void) | undefined;
    if (pooled && chunk.buffer === pooled.buffer) {
      // The chunk is a view of a pooled read buffer: lend it to a handler that gives it back (one
      // read can hold several chunks: the buffer returns when all are back); one that may keep
      // chunks (plugins, cache) keeps the buffer itself — it leaves the pool, no copy.
      if (job.handler.releasesChunks) {
        let lease = this.lease;
        if (lease === undefined) {
          const spare = this.spareLease;
          if (spare !== undefined && spare.count === 0) {
            spare.buffer = pooled;
            spare.count = 1;
            lease = spare;
          } else lease = this.spareLease = newLease(pooled);
          this.lease = lease;
        }
        lease.count++;
        release = lease.release;
      } else this.kept = true;
    }
    // The reader does not stop inside a read: hold what arrives while the handler is paused.
    if (this.paused) {
      (this.held ??= []).push(chunk);
      if (release) (this.heldRelease ??= new Map()).set(chunk, release);
    } else if (job.handler.onData?.(chunk, release) === false && this.job === job) this.pause();
  }

  /** The response is complete: finish now, or once the handler resumes. */
  private complete(reusable: boolean): void {
    if (this.paused) this.completeReusable = reusable;
    else this.finishExchange(reusable);
  }

  // ---- the reader's events ----

  onInterim(head: ResponseHead): void {
    const job = this.job!;
    job.handler.onHeaders?.(head.status, head.headers, this.resumeFor(job), head.reason);
  }

  onHead(head: ResponseHead): void {
    const job = this.job!;
    if (head.status === 101) {
      // The reader accepts a 101 only for an upgrade request.
      this.upgraded = true;
      this.upgradeHead = { status: 101, headers: head.headers };
      return;
    }
    this.keepAlive = head.keepAlive && !job.req.upgrade;
    this.headersDone = true;
    // The read that carried the head has just refreshed the timer: re-armed only for another duration.
    if (!this.readArmed || job.req.bodyTimeout !== this.readTimeoutMs) this.armRead(job.req.bodyTimeout);
    const ok = job.handler.onHeaders?.(head.status, head.headers, this.resumeFor(job), head.reason, true);
    if (ok === false && this.job === job) this.pause();
  }

  onBody(chunk: Buffer): void {
    this.deliver(this.job!, chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.completed = true;
    this.trailers = trailers;
  }

  /** A late resume from a finished exchange must not resume the next one on this connection. */
  private resumeFor(job: Job): () => void {
    return (job.resume ??= () => {
      if (this.job === job) this.resume();
    });
  }

  private readonly resume = (): void => {
    const job = this.job;
    if (!this.paused || this.closed || !job) return;
    this.paused = false;
    const held = this.held;
    if (held) {
      while (held.length) {
        const chunk = held.shift()!;
        const release = this.heldRelease?.get(chunk);
        if (release) this.heldRelease!.delete(chunk);
        if (job.handler.onData?.(chunk, release) === false && this.job === job) {
          this.paused = true;
          return;
        }
        if (this.job !== job) return;
      }
      this.held = undefined;
    }
    this.socket.resume();
    if (this.completed) return this.finishExchange(this.completeReusable);
    this.armRead(job.req.bodyTimeout);
  };

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    // The client is slow, not the upstream: the read timeout does not run while we are not reading.
    this.readArmed = false;
    this.socket.pause();
  }

  /** The response is complete: report it, then keep or drop the connection. */
  private finishExchange(reusable: boolean): void {
    const job = this.job!;
    const trailers = this.trailers;
    this.trailers = null;
    this.readArmed = false;
    // The upstream answered before the whole body was sent: the connection's request framing is
    // unfinished, so it cannot carry another request.
    const keep = reusable && this.keepAlive && this.requestDone && !job.req.reset && !this.closed;
    if (!this.requestDone) this.unhookBody();
    this.job = undefined;
    job.done = true;
    job.conn = undefined;
    this.reused = true;
    if (keep) {
      this.armIdle();
      this.owner.release(this);
    } else this.close();
    job.handler.onComplete?.(trailers);
  }

  private handOver(rest: Buffer): void {
    const job = this.job!;
    const head = this.upgradeHead!;
    this.job = undefined;
    job.done = true;
    job.conn = undefined;
    this.readArmed = false;
    this.closed = true;
    const s = this.socket;
    s.removeListener('data', this.onSocketData);
    s.removeListener('end', this.onSocketEnd);
    s.removeListener('error', this.onSocketError);
    s.removeListener('close', this.onSocketClose);
    this.reader.stop();
    this.owner.removed(this);
    if (rest.length) s.unshift(rest);
    if (job.handler.onUpgrade) job.handler.onUpgrade(head.status, head.headers, s);
    else s.destroy();
  }

  private readonly onSocketEnd = (): void => {
    const job = this.job;
    if (!job) return this.close();
    // A body delimited by the end of the connection completes here.
    const err = this.responseStarted ? this.reader.finish() : undefined;
    if (this.job !== job) return;
    if (this.completed) return this.complete(false);
    if (this.headersDone)
      return this.fail(
        new UpstreamResetError('UPSTREAM_CLOSED', 'upstream closed the connection before the whole body', {
          cause: socketHangUp(),
        }),
      );
    this.fail(err ?? closedError());
  };

  private readonly onSocketError = (err: Error): void => {
    if (!this.keepsCompleteResponse()) this.fail(err);
  };

  /** The socket failed after the whole response was parsed while the handler is paused: the response
   *  is still delivered on resume; only the connection is lost. */
  private keepsCompleteResponse(): boolean {
    if (!this.job || !this.completed || !this.paused) return false;
    this.completeReusable = false;
    return true;
  }

  private readonly onSocketClose = (): void => {
    if (this.keepsCompleteResponse()) return;
    if (this.job) this.fail(closedError());
    else this.close();
  };

  /** Fail the current exchange (if any) and drop the connection. */
  fail(err: Error): void {
    const job = this.job;
    this.job = undefined;
    this.unhookBody();
    this.close();
    if (!job || job.done) return;
    job.conn = undefined;
    // A reused connection that fails before any byte of the answer was probably closed by the
    // upstream while idle: a bodyless idempotent request is safe to send again, once.
    if (
      this.reused &&
      !this.responseStarted &&
      job.req.idempotent &&
      job.req.body === null &&
      !job.retried &&
      STALE.has((err as { code?: string }).code ?? '')
    ) {
      job.retried = true;
      this.owner.retry(job);
      return;
    }
    job.done = true;
    // After the head, the client's response holds corked output until the next tick: report the
    // failure after it, so what was relayed reaches the client before the engine cuts it.
    if (this.headersDone) process.nextTick(notifyError, job.handler, err);
    else job.handler.onError?.(err);
  }

  /** Abort the exchange on behalf of the engine. */
  abort(err: Error): void {
    this.fail(err);
  }

  /** Close the connection (idempotent); the pool forgets it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.readArmed = false;
    clearTimeout(this.readTimer);
    clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.reader.stop();
    this.owner.removed(this);
  }

  // ---- timers: one of each per connection, re-armed with refresh() ----

  private armRead(ms: number | undefined): void {
    if (!ms || ms <= 0) {
      this.readArmed = false;
      return;
    }
    if (this.readTimer && this.readTimeoutMs === ms) this.readTimer.refresh();
    else {
      clearTimeout(this.readTimer);
      this.readTimeoutMs = ms;
      this.readTimer = setTimeout(this.onReadTimeout, ms);
      this.readTimer.unref();
    }
    this.readArmed = true;
  }

  private readonly onReadTimeout = (): void => {
    if (!this.readArmed || !this.job) return;
    const code = this.headersDone ? 'UPSTREAM_BODY_TIMEOUT' : 'UPSTREAM_HEADERS_TIMEOUT';
    this.fail(new UpstreamTimeoutError(code, `upstream read timeout after ${this.readTimeoutMs} ms`));
  };

  private armIdle(): void {
    const ms = this.settings.keepAliveTimeoutMs;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(this.onIdleTimeout, ms);
      this.idleTimer.unref();
    }
  }

  private readonly onIdleTimeout = (): void => {
    if (!this.job) this.close();
  };
}
