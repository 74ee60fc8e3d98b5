// Request-body buffering (nginx `proxy_request_buffering on`, its default): the client's body is read
// whole before the request takes an upstream connection, so a client that sends slowly holds a
// socket of its own and a little memory, never upstream capacity. The body is kept in memory up to
// a bound, then in a temporary file, and sent with `Content-Length` (a chunked upload included).
//
// One stage in front of any dispatch: it only replaces the request's body (and its length field)
// and then calls `send`. The temporary file is unlinked as soon as it is created (nginx does the
// same): the open descriptor is all that keeps it, so no path — abort, error, crash — leaves a file
// behind; the descriptor is closed when the body has been read or the client's response closes.
import type { EventEmitter } from 'node:events';
import { close, createReadStream, open, unlink, writev, type ReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyError } from '../errors/codes.js';
import { sameName } from '../http1/head-scan.js';
import { withErrorPath } from '../util/error-path.js';
import type { UpstreamRequest } from './dispatcher.js';

export interface BufferSettings {
  /** Bytes kept in memory before the body moves to a temporary file. */
  memory: number;
  /** Largest body buffered where no max body size applies: a body declared larger is streamed; a
   *  chunked one growing past it is refused (413). */
  maxSize: number;
}

/** A body stream that enforces the request's max body size itself (nginx `client_max_body_size`):
 *  its body is spooled up to that size, as nginx does, whatever `maxSize` says. */
export interface SizeLimitedBody {
  /** Bytes; 0: none. */
  readonly limit: number;
}

/** The buffering bounds of a server's limits. */
export function bufferSettings(limits: {
  bodyBufferMemory: number;
  bodyBufferMaxSize: number;
}): BufferSettings {
  return { memory: limits.bodyBufferMemory, maxSize: limits.bodyBufferMaxSize };
}

/** Buffer `req.body` (a stream) as the stage above describes, then `send(req)`; on failure `fail(err)`
 *  instead. `res` is the client's response: its 'close' ends the stage (and frees the file). */
export function sendBuffered(
  res: EventEmitter,
  req: UpstreamRequest,
  settings: BufferSettings,
  send: (req: UpstreamRequest) => void,
  fail: (err: Error) => void,
): void {
  const source = req.body as NodeJS.ReadableStream;
  // Too large to keep: streamed as it comes (the operator's body limit still applies).
  if (!buffersBody(req, settings)) return send(req);
  new BodyBuffer(source, res, settings.memory, spoolBound(source, settings), (err, body, length) => {
    if (err) return fail(err);
    if (Buffer.isBuffer(body))
      req.body = body; // the connection writes its length
    else {
      req.body = body!;
      req.headers = withLength(req.headers, length ?? 0);
    }
    send(req);
  });
}

/**
 * How far a body of unknown length is spooled. nginx spools up to `client_max_body_size`: where the
 * body stream enforces such a limit (a chunked body under a route's or server's max body size), the
 * limit is the bound, so a chunked upload nginx would take is never refused for its size alone (say
 * 5 GiB under `client_max_body_size 1000G`). Where no max body size applies (0, unlimited), nginx
 * would fill the disk: the bound is `maxSize` (1 GiB by default), past which the body is refused
 * with 413; raise `limits.bodyBufferMaxSize`, or set a max body size, to take larger ones.
 */
function spoolBound(source: NodeJS.ReadableStream, settings: BufferSettings): number {
  const limit = (source as Partial<SizeLimitedBody>).limit;
  return typeof limit === 'number' && limit > 0 ? limit : settings.maxSize;
}

/** Whether `sendBuffered` buffers this request's body (not when it declares more than `maxSize`:
 *  such a body is streamed with its own Content-Length, so the upstream still gets the length). */
export function buffersBody(req: UpstreamRequest, settings: BufferSettings): boolean {
  return declaredLength(req.headers) <= settings.maxSize;
}

type Done = (err: Error | null, body?: Buffer | ReadStream, length?: number) => void;

let sequence = 0;
const ignore = (): void => undefined;
/** Bytes read ahead while a write to the temporary file is under way, before reading pauses: the
 *  socket keeps being read while the disk writes, and what arrived meanwhile goes in one writev. */
const AHEAD = 1024 * 1024;
/** Pieces held before reading pauses: a body in tiny chunks holds few objects and one writev's worth. */
const AHEAD_PIECES = 1024;
/** Chunk size of the read back from the file: a few large socket writes upstream, not many small. */
const READ_BACK = 512 * 1024;

class BodyBuffer {
  private chunks: Buffer[] = [];
  /** Bytes in `chunks`. */
  private held = 0;
  private size = 0;
  private paused = false;
  /** The temporary file once the body outgrew memory (-1: none yet). */
  private fd = -1;
  private opening = false;
  /** Bytes written to the file so far, and whether a write is under way. */
  private written = 0;
  private writing = false;
  private ended = false;
  private finished = false;

  constructor(
    private readonly source: NodeJS.ReadableStream,
    private readonly res: EventEmitter,
    /** Bytes kept in memory before the body moves to a temporary file. */
    private readonly memory: number,
    /** Largest body spooled; past it: 413. */
    private readonly maxSize: number,
    private readonly done: Done,
  ) {
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.on('error', this.onError);
    source.on('close', this.onClose);
    res.on('close', this.onResponseClose);
    if ((source as { isPaused?: () => boolean }).isPaused?.()) source.resume();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.size += buf.length;
    if (this.size > this.maxSize)
      return this.finish(
        new ProxyError('payload_too_large', `body over the ${this.maxSize}-byte buffering bound`),
      );
    this.chunks.push(buf);
    this.held += buf.length;
    if (this.fd === -1 && !this.opening && this.size > this.memory) this.openFile();
    else if (this.fd !== -1) this.flush();
    // Memory stays at about the look-ahead plus one read while the file or a write is awaited.
    if ((this.opening || this.writing) && (this.held > AHEAD || this.chunks.length >= AHEAD_PIECES))
      this.pause();
  };

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.source.resume();
  }

  /** The file is opened at the end of this event-loop turn: a body that arrived whole in the reads
   *  of this turn (most bodies a little over the memory bound) never needs it. Reading pauses past
   *  `AHEAD` meanwhile, as while the file opens. */
  private openFile(): void {
    this.opening = true;
    setImmediate(this.openNow);
  }

  private readonly openNow = (): void => {
    if (this.finished) {
      this.opening = false;
      return;
    }
    const path = join(
      tmpdir(),
      `gatehouse-body-${process.pid}-${++sequence}-${randomBytes(6).toString('hex')}`,
    );
    open(path, 'wx+', 0o600, (err, fd) => {
      this.opening = false;
      if (err) return this.finish(err);
      unlink(path, ignore);
      if (this.finished) return close(fd, ignore);
      this.fd = fd;
      this.flush();
    });
  };

  /** Write what is held to the file, one write at a time; reading goes on meanwhile (up to `AHEAD`). */
  private flush(): void {
    if (this.writing || this.finished || this.fd === -1) return;
    if (this.chunks.length === 0) {
      if (this.ended) this.complete();
      else this.resume();
      return;
    }
    const data = this.chunks;
    const length = this.held;
    this.chunks = [];
    this.held = 0;
    this.writing = true;
    writev(this.fd, data, this.written, (err, bytes) => {
      this.writing = false;
      if (this.finished) return this.closeFile(); // ended while the write was under way
      if (err) return this.finish(err);
      // A short write (disk full on some file systems) is an error, not a hole in the body.
      if (bytes !== length) return this.finish(new Error('short write to the body buffer file'));
      this.written += length;
      if (this.held <= AHEAD && this.chunks.length < AHEAD_PIECES) this.resume();
      this.flush();
    });
  }

  private readonly onEnd = (): void => {
    this.ended = true;
    // Nothing written to the file yet: the whole body is held (at most about `AHEAD`), sent from
    // memory; a file being opened is closed when it opens.
    if (this.written === 0 && !this.writing) {
      this.closeFile();
      this.complete();
    } else this.flush();
  };

  private complete(): void {
    if (this.finished) return;
    if (this.fd === -1) {
      const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = [];
      return this.finish(null, body);
    }
    // The file is read from its start; the stream closes the descriptor when it ends or is destroyed.
    const file = withErrorPath(
      createReadStream('', {
        fd: this.fd,
        start: 0,
        autoClose: true,
        highWaterMark: Math.max(64 * 1024, Math.min(READ_BACK, this.size)),
      }),
    );
    this.fd = -1;
    // Not read to its end (the upstream failed, the client left while the request waited): closed
    // with the client's response.
    this.res.once('close', () => file.destroy());
    this.finish(null, file, this.size);
  }

  private readonly onError = (err: Error): void => this.finish(err);

  private readonly onClose = (): void => {
    if (!this.ended) this.finish(new ProxyError('bad_request', 'request body ended early'));
  };

  private readonly onResponseClose = (): void => {
    this.finish(new Error('client closed the connection'));
  };

  private finish(err: Error | null, body?: Buffer | ReadStream, length?: number): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.source;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    this.res.removeListener('close', this.onResponseClose);
    this.chunks = [];
    if (err) {
      // With a write under way, its callback closes the file.
      if (!this.writing) this.closeFile();
      // The rest of the body is read and dropped so the client connection stays in step.
      if (!this.ended) s.resume();
    }
    this.done(err, body, length);
  }

  private closeFile(): void {
    if (this.fd === -1) return;
    close(this.fd, ignore);
    this.fd = -1;
  }
}

/** The body's declared Content-Length among the upstream fields; -1 when none. */
function declaredLength(headers: string[]): number {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && sameName(name, 0, 'content-length')) return Number(headers[i + 1]);
  }
  return -1;
}

/** The fields with `Content-Length: length` in place of any the client sent; without one when
 *  `length` is undefined (the body is then sent chunked). */
export function withLength(headers: string[], length: number | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (!(headers[i]!.length === 14 && sameName(headers[i]!, 0, 'content-length')))
      out.push(headers[i]!, headers[i + 1]!);
  if (length !== undefined) out.push('content-length', String(length));
  return out;
}
