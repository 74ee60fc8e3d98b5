// A keep-alive pool of HTTP/1.1 connections to one upstream origin: the most recently used idle
// connection first (its socket is the least likely to have been closed by the upstream), at most
// `maxConnections` at once, requests beyond that wait in order: at most `maxQueued` of them, each for
// at most `queueTimeoutMs`, so a saturated upstream answers 503 instead of holding requests forever.
import { UpstreamBusyError, UpstreamResetError } from '../../errors/upstream.js';
import type { PoolStats, UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from '../dispatcher.js';
import { H1Connection, type ConnectionOwner, type Job } from './connection.js';
import { openSocket, type SocketSettings } from './open-socket.js';

export interface H1PoolOptions extends SocketSettings {
  maxConnections: number;
  keepAliveTimeoutMs: number;
  /** Largest response head accepted (bytes). */
  maxHeaderSize: number;
  /** Requests that may wait for a connection; beyond it a request fails at once (0: none wait). */
  maxQueued: number;
  /** Time a request may wait for a connection (0: no bound). */
  queueTimeoutMs: number;
}

function poolClosed(): Error {
  return new UpstreamResetError('UPSTREAM_POOL_CLOSED', 'upstream pool closed');
}

function queueError(code: 'UPSTREAM_QUEUE_FULL' | 'UPSTREAM_QUEUE_TIMEOUT', message: string): Error {
  return new UpstreamBusyError(code, message);
}

export class H1Pool implements UpstreamDispatcher, ConnectionOwner {
  private readonly idle: H1Connection[] = [];
  private readonly all = new Set<H1Connection>();
  private queue: Job[] = [];
  private queueHead = 0;
  /** One timer for the whole queue, due when its oldest request has waited too long. */
  private queueTimer: NodeJS.Timeout | undefined;
  /** Connections serving a request (each marked by its `inUse` flag). A Set here was added to and
   *  deleted from on every request: once it lived in the old generation, each of its rehashes (every
   *  few dozen requests) allocated a new table there, 90 bytes of old-generation garbage per
   *  request, the main cause of peak memory under load (bench/ANALYSIS.md, item 12). */
  private running = 0;
  private closing = false;
  private destroyed = false;
  private drained: (() => void) | undefined;
  /** Last TLS session, offered on new connections (nginx proxy_ssl_session_reuse). */
  private session: Buffer | undefined;

  constructor(private readonly options: H1PoolOptions) {}

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): boolean {
    const job: Job = { req, handler, conn: undefined, done: false, retried: false, queuedAt: 0 };
    if (this.closing || this.destroyed) {
      job.done = true;
      handler.onError?.(poolClosed());
      return false;
    }
    handler.onConnect?.((err) => this.abort(job, err));
    if (job.done) return true; // aborted inside onConnect
    this.run(job);
    return true;
  }

  private run(job: Job): void {
    // An upgraded socket is handed over as a stream: it gets a connection of its own, not a pooled
    // one that reads into pooled buffers (it leaves the pool at the 101 anyway).
    if (job.req.upgrade) return this.assign(this.connect(true), job);
    let conn = this.idle.pop();
    while (conn && conn.socket.destroyed) conn = this.idle.pop();
    if (conn) return this.assign(conn, job);
    if (this.all.size < this.options.maxConnections) return this.assign(this.connect(), job);
    this.enqueue(job);
  }

  private enqueue(job: Job): void {
    if (this.queue.length - this.queueHead >= this.options.maxQueued) {
      job.done = true;
      job.handler.onError?.(
        queueError('UPSTREAM_QUEUE_FULL', `all ${this.options.maxConnections} connections busy, queue full`),
      );
      return;
    }
    job.queuedAt = Date.now();
    this.queue.push(job);
    if (this.queueTimer === undefined && this.options.queueTimeoutMs > 0) this.armQueueTimer(job.queuedAt);
  }

  private armQueueTimer(oldest: number): void {
    const due = Math.max(1, oldest + this.options.queueTimeoutMs - Date.now());
    this.queueTimer = setTimeout(this.expireQueued, due);
    this.queueTimer.unref();
  }

  /** Fail the requests that waited too long (the oldest are first), then wait for the next one. */
  private readonly expireQueued = (): void => {
    this.queueTimer = undefined;
    const limit = Date.now() - this.options.queueTimeoutMs;
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead]!;
      if (!job.done && job.queuedAt > limit) return this.armQueueTimer(job.queuedAt);
      this.queueHead++;
      if (job.done) continue;
      job.done = true;
      job.handler.onError?.(
        queueError(
          'UPSTREAM_QUEUE_TIMEOUT',
          `no upstream connection free within ${this.options.queueTimeoutMs} ms`,
        ),
      );
    }
    this.queue = [];
    this.queueHead = 0;
    this.checkDrained();
  };

  private assign(conn: H1Connection, job: Job): void {
    if (!conn.inUse) {
      conn.inUse = true;
      this.running++;
    }
    conn.start(job);
  }

  private connect(streaming = false): H1Connection {
    let conn: H1Connection;
    const socket = openSocket(
      this.options,
      this.session,
      (err) => {
        if (err && this.options.tls) this.session = undefined;
        conn.onConnected(err);
      },
      // TLS sockets decrypt into buffers of their own; plain ones read into the pool.
      this.options.tls || streaming ? undefined : (n, b) => conn.onRead(n, b),
    );
    if (this.options.tls) socket.on('session', (s: Buffer) => (this.session = s));
    conn = new H1Connection(socket, this, this.options);
    this.all.add(conn);
    return conn;
  }

  private abort(job: Job, err: Error | undefined): void {
    if (job.done) return;
    const reason = err ?? new Error('request aborted');
    if (job.conn) return job.conn.abort(reason);
    // Still queued.
    const i = this.queue.indexOf(job, this.queueHead);
    if (i !== -1) this.queue.splice(i, 1);
    job.done = true;
    job.handler.onError?.(reason);
  }

  private nextQueued(): Job | undefined {
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead++]!;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      if (!job.done) return job;
    }
    return undefined;
  }

  // ---- ConnectionOwner ----

  private notInUse(conn: H1Connection): void {
    if (!conn.inUse) return;
    conn.inUse = false;
    this.running--;
  }

  release(conn: H1Connection): void {
    const next = this.nextQueued();
    if (next) return this.assign(conn, next);
    this.notInUse(conn);
    if (this.closing) {
      conn.close();
      return;
    }
    this.idle.push(conn);
    this.checkDrained();
  }

  removed(conn: H1Connection): void {
    if (!this.all.delete(conn)) return;
    this.notInUse(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    // A slot is free: start the next waiting request on a new connection.
    if (!this.destroyed && this.all.size < this.options.maxConnections) {
      const next = this.nextQueued();
      if (next) this.assign(this.connect(), next);
    }
    this.checkDrained();
  }

  retry(job: Job): void {
    if (this.destroyed) {
      job.done = true;
      job.handler.onError?.(poolClosed());
      return;
    }
    // A fresh connection: another idle one may be just as stale.
    if (this.all.size < this.options.maxConnections) this.assign(this.connect(), job);
    else this.enqueue(job);
  }

  private checkDrained(): void {
    if (this.drained && this.running === 0 && this.queueHead >= this.queue.length) {
      for (const c of [...this.idle]) c.close();
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }

  get stats(): PoolStats {
    let connected = 0;
    for (const c of this.all) if (c.isConnected) connected++;
    return {
      connected,
      free: this.idle.length,
      pending: this.queue.length - this.queueHead,
      running: this.running,
    };
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    });
  }

  destroy(): Promise<void> {
    this.closing = true;
    this.destroyed = true;
    clearTimeout(this.queueTimer);
    this.queueTimer = undefined;
    let job: Job | undefined;
    while ((job = this.nextQueued())) {
      job.done = true;
      job.handler.onError?.(poolClosed());
    }
    for (const c of [...this.all]) c.fail(poolClosed());
    const done = this.drained;
    this.drained = undefined;
    done?.();
    return Promise.resolve();
  }
}
