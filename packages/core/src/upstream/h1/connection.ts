// One HTTP/1.1 connection to an upstream: writes a request head and streams its body, parses the
// response with node's llhttp (strict) and hands it to the exchange's handler, with backpressure
// by pausing the socket. No pipelining: bytes the upstream sends beyond the response it owes
// desynchronise the connection, which is then dropped.
import type net from 'node:net';
import type { UpstreamHandler, UpstreamRequest } from '../dispatcher.js';
import { returnReadBuffer } from './read-buffers.js';
import {
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  RESPONSE,
  ResponseParser,
  type LlhttpParser,
} from './llhttp.js';

/** One request on its way: what the pool queues and a connection serves. */
export interface Job {
  req: UpstreamRequest;
  handler: UpstreamHandler;
  conn: H1Connection | undefined;
  done: boolean;
  /** Already sent once on a reused connection that turned out to be closed. */
  retried: boolean;
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

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const DIGITS = /^\d{1,15}$/;
const EMPTY = Buffer.alloc(0);
const ignore = (): void => undefined;
/** How a kept-alive connection the upstream already closed fails a new request. */
const STALE = new Set(['UPSTREAM_CLOSED', 'ECONNRESET', 'EPIPE']);
const notifyError = (handler: UpstreamHandler, err: Error): void => handler.onError?.(err);

/** Content-Length bodies at least this long are read raw (below it, the parser's copy costs less than a re-init). */
const RAW_MIN = 16 * 1024;

/** The body length of a response the parser validated, when it is framed by Content-Length alone; else -1. */
function rawLength(headers: string[], status: number): number {
  if (status === 204 || status === 304) return -1;
  let length = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') length = Number(headers[i + 1]);
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return -1;
  }
  return Number.isSafeInteger(length) ? length : -1;
}

function upstreamError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class H1Connection {
  private readonly parser: LlhttpParser;
  private job: Job | undefined;
  /** The connection has carried at least one whole exchange (a failure may be a stale keep-alive). */
  private reused = false;
  private connected = false;
  private responseStarted = false;
  private headersDone = false;
  private completed = false;
  private desync = false;
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
  /** Body bytes still due in raw mode (-1: the parser reads the body). */
  private rawRemaining = -1;
  /** The parser stopped after a head (raw mode): initialise it again before the next response. */
  private reinit = false;
  private isHead = false;
  private status = 0;
  private headerAcc: string[] | undefined;
  private upgradeHead: { status: number; headers: string[] } | undefined;
  private body: NodeJS.ReadableStream | undefined;
  private bodyChunked = false;
  private bodyExpected = -1;
  private bodySent = 0;
  private readTimer: NodeJS.Timeout | undefined;
  private readTimeoutMs = 0;
  private readArmed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The pooled buffer of the read being processed, and whether a chunk of it was lent out. */
  private readBuffer: Buffer | undefined;
  private lent = false;

  constructor(
    readonly socket: net.Socket,
    private readonly owner: ConnectionOwner,
    private readonly settings: ConnectionSettings,
  ) {
    const p = new ResponseParser();
    p.initialize(RESPONSE, {}, settings.maxHeaderSize, 0);
    p[kOnHeaders] = this.onParserHeaders;
    p[kOnHeadersComplete] = this.onParserHeadersComplete;
    p[kOnBody] = this.onParserBody;
    p[kOnMessageComplete] = this.onParserMessageComplete;
    this.parser = p;
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
    if (this.reinit) {
      this.parser.initialize(RESPONSE, {}, this.settings.maxHeaderSize, 0);
      this.reinit = false;
    }
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
    this.status = 0;
    this.headerAcc = undefined;
    const req = job.req;
    this.isHead = req.method === 'HEAD';
    const head = this.requestHead(req);
    if (head === undefined) return;
    this.armRead(req.headersTimeout);
    const body = req.body;
    if (body === null || body === undefined) {
      this.socket.write(head, 'latin1');
      this.requestDone = true;
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
      this.requestDone = true;
    } else {
      this.socket.write(head, 'latin1');
      this.streamBody(body);
    }
  }

  /** Build the request head; fails the job and returns undefined on a field that would split the head. */
  private requestHead(req: UpstreamRequest): string | undefined {
    const h = req.headers;
    const body = req.body;
    const whole = typeof body === 'string' || Buffer.isBuffer(body);
    // The target and method may come from a rewrite or a plugin (req.targetPath): never let them split the line.
    if (!TOKEN.test(req.method) || !TARGET.test(req.path)) {
      this.fail(upstreamError('UPSTREAM_INVALID_REQUEST', 'invalid method or request target'));
      return undefined;
    }
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let length = -1;
    let hasConnection = false;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      const value = h[i + 1]!;
      if (!TOKEN.test(name) || FIELD_VALUE.test(value)) {
        this.fail(upstreamError('UPSTREAM_INVALID_REQUEST', `invalid header field "${name.slice(0, 40)}"`));
        return undefined;
      }
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        if (whole) continue; // the body's real length is written below
        if (!DIGITS.test(value)) {
          this.fail(upstreamError('UPSTREAM_INVALID_REQUEST', 'invalid Content-Length'));
          return undefined;
        }
        length = Number(value);
      } else if (name.length === 10 && name.toLowerCase() === 'connection') hasConnection = true;
      head += `${name}: ${value}\r\n`;
    }
    if (whole) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    else if (body !== null && body !== undefined) {
      this.bodyExpected = length;
      this.bodyChunked = length < 0;
      this.bodySent = 0;
      if (this.bodyChunked) head += 'transfer-encoding: chunked\r\n';
    }
    if (req.upgrade) head += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
    else if (req.reset && !hasConnection) head += 'connection: close\r\n';
    return head + '\r\n';
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
    if (this.bodyExpected >= 0 && this.bodySent > this.bodyExpected) {
      this.fail(
        upstreamError('UPSTREAM_REQUEST_BODY_MISMATCH', 'request body longer than its Content-Length'),
      );
      return;
    }
    const s = this.socket;
    let ok: boolean;
    if (this.bodyChunked) {
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
    if (this.bodyChunked) this.socket.write('0\r\n\r\n', 'latin1');
    else if (this.bodyExpected >= 0 && this.bodySent !== this.bodyExpected) {
      this.fail(
        upstreamError('UPSTREAM_REQUEST_BODY_MISMATCH', 'request body shorter than its Content-Length'),
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
    if (this.body) this.fail(upstreamError('UPSTREAM_REQUEST_ABORTED', 'request body ended early'));
  };

  // ---- response ----

  /** A read into a pooled buffer (plain sockets): processed like 'data', then the buffer is reused
   *  unless a body chunk of it was lent to the handler. */
  onRead(nread: number, buffer: Buffer): boolean {
    this.readBuffer = buffer;
    this.lent = false;
    this.onSocketData(buffer.subarray(0, nread));
    this.readBuffer = undefined;
    if (!this.lent) returnReadBuffer(buffer);
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
    if (this.rawRemaining >= 0) return this.rawBody(data, 0);
    const ret = this.parser.execute(data);
    if (this.job !== job) return; // failed or aborted inside a callback
    if (typeof ret !== 'number') {
      if (this.completed && !this.upgraded) this.complete(false);
      else this.fail(ret);
      return;
    }
    if (this.upgraded) return this.handOver(ret < data.length ? data.subarray(ret) : EMPTY);
    if (this.rawRemaining >= 0) return this.rawBody(data, ret);
    if (this.completed) this.complete(!this.desync && ret === data.length);
  };

  /**
   * Raw mode: a Content-Length body is relayed as the socket delivers it, without passing through
   * the parser (whose body callback copies every piece). The head was parsed strictly; the length
   * was validated by llhttp (one Content-Length, no Transfer-Encoding).
   */
  private rawBody(data: Buffer, offset: number): void {
    const avail = data.length - offset;
    if (avail <= 0) return;
    const n = avail < this.rawRemaining ? avail : this.rawRemaining;
    this.rawRemaining -= n;
    const done = this.rawRemaining === 0;
    if (done) {
      this.rawRemaining = -1;
      this.completed = true;
    }
    const job = this.job!;
    this.deliver(job, offset === 0 && n === data.length ? data : data.subarray(offset, offset + n));
    // Bytes after the body: the upstream is out of step (we never pipeline).
    if (done && this.job === job) this.complete(n === avail);
  }

  private deliver(job: Job, chunk: Buffer): void {
    const pooled = this.readBuffer;
    let release: (() => void) | undefined;
    if (pooled && chunk.buffer === pooled.buffer) {
      // The chunk is a view of a pooled read buffer: lend it to a handler that gives it back; one that
      // may keep chunks (plugins, cache) keeps the buffer itself — it leaves the pool, no copy.
      this.lent = true;
      if (job.handler.releasesChunks) release = () => returnReadBuffer(pooled);
    }
    // The parser cannot stop inside a read: hold what arrives while the handler is paused.
    if (this.paused) {
      (this.held ??= []).push(chunk);
      if (release) (this.heldRelease ??= new Map()).set(chunk, release);
    } else if (job.handler.onData?.(chunk, release) === false && this.job === job) this.pause();
  }

  /** The parser saw the end of the response: finish now, or once the handler resumes. */
  private complete(reusable: boolean): void {
    if (this.paused) this.completeReusable = reusable;
    else this.finishExchange(reusable);
  }

  private readonly onParserHeaders = (headers: string[]): number => {
    // Long heads arrive in pieces (and trailers after the body): collect them.
    this.headerAcc = this.headerAcc ? this.headerAcc.concat(headers) : headers;
    return 0;
  };

  private readonly onParserHeadersComplete = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: unknown,
    _url: unknown,
    statusCode: number,
    statusText: string,
    upgrade: boolean,
    keepAlive: boolean,
  ): number => {
    const job = this.job;
    if (!job || this.completed) {
      this.desync = true;
      return 0;
    }
    let all = headers ?? [];
    if (this.headerAcc) {
      all = this.headerAcc.concat(all);
      this.headerAcc = undefined;
    }
    if (statusCode < 200) {
      // Interim (100, 103): the final response follows on the same parser.
      if (statusCode === 101 && job.req.upgrade && upgrade) {
        this.upgraded = true;
        this.upgradeHead = { status: statusCode, headers: all };
        return 0;
      }
      job.handler.onHeaders?.(statusCode, all, this.resumeFor(job), statusText);
      return 0;
    }
    this.status = statusCode;
    this.keepAlive = keepAlive && !job.req.upgrade;
    this.headersDone = true;
    this.armRead(job.req.bodyTimeout);
    const ok = job.handler.onHeaders?.(statusCode, all, this.resumeFor(job), statusText);
    if (ok === false && this.job === job) this.pause();
    if (this.isHead) return 1;
    // A long Content-Length body is read raw (2: llhttp stops after the head, as for an upgrade).
    const length = rawLength(all, statusCode);
    if (length >= RAW_MIN) {
      this.rawRemaining = length;
      this.reinit = true;
      return 2;
    }
    return 0;
  };

  private readonly onParserBody = (chunk: Buffer): number => {
    const job = this.job;
    if (!job || this.completed) {
      this.desync = true;
      return 0;
    }
    this.deliver(job, chunk);
    return 0;
  };

  private readonly onParserMessageComplete = (): number => {
    if (this.rawRemaining >= 0) return 0; // raw mode: the body is still to come
    if (!this.job || this.completed) {
      this.desync = true;
      return 0;
    }
    if (this.upgraded) return 0;
    if (this.status === 0) return 0; // end of an interim response
    this.completed = true;
    return 0;
  };

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
    const trailers = this.headerAcc && this.headerAcc.length ? this.headerAcc : null;
    this.headerAcc = undefined;
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
    this.releaseParser();
    this.owner.removed(this);
    if (rest.length) s.unshift(rest);
    if (job.handler.onUpgrade) job.handler.onUpgrade(head.status, head.headers, s);
    else s.destroy();
  }

  private readonly onSocketEnd = (): void => {
    const job = this.job;
    if (!job) return this.close();
    if (this.rawRemaining >= 0)
      return this.fail(
        upstreamError('UPSTREAM_CLOSED', 'upstream closed the connection before the whole body'),
      );
    // A body delimited by the end of the connection completes here.
    const err = this.parser.finish();
    if (this.job !== job) return;
    if (this.completed) return this.complete(false);
    this.fail(err ?? upstreamError('UPSTREAM_CLOSED', 'upstream closed the connection'));
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
    if (this.job) this.fail(upstreamError('UPSTREAM_CLOSED', 'upstream closed the connection'));
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
    this.releaseParser();
    this.owner.removed(this);
  }

  /** Free the native parser later: this may run inside one of its own callbacks. */
  private releaseParser(): void {
    const p = this.parser;
    setImmediate(() => p.close());
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
    this.fail(upstreamError(code, `upstream read timeout after ${this.readTimeoutMs} ms`));
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
