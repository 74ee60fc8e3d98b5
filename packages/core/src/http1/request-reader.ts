// Reads HTTP/1.1 requests one at a time from a client connection's bytes: the head (strictly parsed,
// see request-head.ts), then the body by its framing — Content-Length or chunked — handed on as
// views of the socket's buffers, never copied. It stops at the end of each request; the connection
// decides when the next one may start (next()).
import { ChunkedDecoder } from './chunked-decoder.js';
import { findHeadEnd, HeadScanner, parseScannedHead, type RequestHead } from './request-head.js';
import { HttpParseError } from './syntax.js';

export interface RequestEvents {
  onHead(head: RequestHead): void;
  /** Body bytes: views of the buffers given to execute (valid as long as those are). */
  onBody(chunk: Buffer): void;
  /** The request is complete (right after onHead when it has no body). */
  onComplete(trailers: string[] | null): void;
}

const enum Phase {
  /** Between requests: nothing of the next one has arrived (but maybe empty lines). */
  Idle,
  /** Part of a head has arrived (kept in `pending`). */
  Head,
  Length,
  Chunked,
  /** The request is complete; nothing more is taken until next(). */
  Done,
  Failed,
}

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

export class RequestReader {
  private phase = Phase.Idle;
  /** Cleared by stop(): events stop at once. */
  private running = true;
  private failure: HttpParseError | undefined;
  /** The bytes of a head spanning reads (`pendingLength` of them; grown as needed, up to the limit). */
  private pending: Buffer = EMPTY;
  private pendingLength = 0;
  private readonly scanner = new HeadScanner();
  private remaining = 0;
  private chunked: ChunkedDecoder | undefined;
  /** The last head taken had no body: its request is complete (whatever the events did since). */
  private headOnly = false;

  constructor(
    private readonly events: RequestEvents,
    private readonly maxHeaderSize: number,
  ) {}

  private readonly onChunk = (chunk: Buffer): void => {
    if (this.running) this.events.onBody(chunk);
  };

  /** True when no byte of a request has arrived since the last complete request (empty lines aside). */
  get idle(): boolean {
    return this.phase === Phase.Idle || this.phase === Phase.Done;
  }

  /** True while a head is arriving (some of its bytes came, not its end). */
  get inHead(): boolean {
    return this.phase === Phase.Head;
  }

  /** Ready for the next request (after a complete one; otherwise nothing changes). */
  next(): void {
    if (this.phase === Phase.Done) this.phase = Phase.Idle;
  }

  stop(): void {
    this.running = false;
    this.pending = EMPTY;
    this.chunked = undefined;
  }

  /** The connection ended: fine between requests, else the request was cut. */
  finish(): HttpParseError | undefined {
    if (this.phase === Phase.Idle || this.phase === Phase.Done) return undefined;
    if (this.phase === Phase.Failed) return this.failure;
    return new HttpParseError('HPE_INVALID_EOF_STATE', 'the connection ended inside a request');
  }

  /**
   * Take `data`. Returns how many bytes were taken: all of them unless a request completed (the
   * rest is not this request's: the next one's, or an upgraded connection's), or the error.
   */
  execute(data: Buffer): number | HttpParseError {
    const n = data.length;
    let i = 0;
    while (i < n && this.running) {
      switch (this.phase) {
        case Phase.Idle: {
          // Empty lines before a request carry nothing; llhttp skips them too (RFC 9112 §2.2).
          let c = data[i]!;
          while (c === CR || c === LF) {
            if (++i === n) return n;
            c = data[i]!;
          }
          const r = this.firstHeadRead(data, i);
          if (typeof r !== 'number') return this.fail(r);
          i = r;
          if (this.headOnly) return i;
          break;
        }
        case Phase.Head: {
          const r = this.moreHead(data, i);
          if (typeof r !== 'number') return this.fail(r);
          i = r;
          if (this.headOnly) return i;
          break;
        }
        case Phase.Length: {
          const take = this.remaining < n - i ? this.remaining : n - i;
          this.remaining -= take;
          const chunk = i === 0 && take === n ? data : data.subarray(i, i + take);
          i += take;
          if (this.remaining > 0) {
            this.events.onBody(chunk);
            break;
          }
          this.phase = Phase.Done;
          this.events.onBody(chunk);
          if (this.running) this.events.onComplete(null);
          return i;
        }
        case Phase.Chunked: {
          const decoder = this.chunked!;
          const r = decoder.execute(data, i, this.onChunk);
          if (typeof r !== 'number') return this.fail(r);
          i = r;
          if (decoder.done) {
            this.phase = Phase.Done;
            this.chunked = undefined;
            if (this.running) this.events.onComplete(decoder.trailers);
            return i;
          }
          break;
        }
        case Phase.Failed:
          return this.failure!;
        default:
          // Done: what follows is not this request's.
          return i;
      }
    }
    return i;
  }

  private fail(err: HttpParseError): HttpParseError {
    this.phase = Phase.Failed;
    this.failure = err;
    this.pending = EMPTY;
    this.chunked = undefined;
    return err;
  }

  /** The start of a head at `data[i]`. Returns where the body starts, or `data.length`. */
  private firstHeadRead(data: Buffer, i: number): number | HttpParseError {
    const n = data.length;
    this.headOnly = false;
    // The usual case: the whole head in this read, found and checked in one pass over its bytes.
    const limit = Math.min(n, i + this.maxHeaderSize + 4);
    const end = findHeadEnd(data, i, limit);
    if (typeof end !== 'number') return end;
    if (end >= 0) {
      if (end - i > this.maxHeaderSize) return headerOverflow();
      return this.takeHead(parseScannedHead(data, i, end), end + 4);
    }
    // The head continues in later reads.
    this.phase = Phase.Head;
    this.pendingLength = 0;
    this.scanner.reset();
    return this.moreHead(data, i);
  }

  /** More of a head that spans reads, from `data[i]`. */
  private moreHead(data: Buffer, i: number): number | HttpParseError {
    const n = data.length;
    const had = this.pendingLength;
    // Never more than a head of the largest size and its end.
    const take = Math.min(n - i, this.maxHeaderSize + 4 - had);
    const length = had + take;
    if (this.pending.length < length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.maxHeaderSize + 4, Math.max(length, 2 * this.pending.length, 1024)),
      );
      this.pending.copy(grown, 0, 0, had);
      this.pending = grown;
    }
    data.copy(this.pending, had, i, i + take);
    this.pendingLength = length;
    const end = this.pending.subarray(0, length).indexOf(CRLFCRLF, had > 3 ? had - 3 : 0);
    if (end !== -1) {
      if (end > this.maxHeaderSize) return headerOverflow();
      const pending = this.pending;
      this.pending = EMPTY;
      this.pendingLength = 0;
      const found = findHeadEnd(pending, 0, end + 4);
      if (typeof found !== 'number') return found;
      // (found is end: both are the first CRLF CRLF.) The head's last bytes are in `data`.
      return this.takeHead(parseScannedHead(pending, 0, found), i + found + 4 - had);
    }
    // The end can still start at length - 3: a head longer than the limit is certain only beyond.
    if (length > this.maxHeaderSize + 3) return headerOverflow();
    const err = this.scanner.scan(this.pending, had, length);
    return err ?? n;
  }

  /** Set up the body of a parsed head. Returns `next` (where the body starts). */
  private takeHead(head: RequestHead | HttpParseError, next: number): number | HttpParseError {
    if (head instanceof HttpParseError) return head;
    if (head.chunked) {
      this.chunked = new ChunkedDecoder(this.maxHeaderSize);
      this.phase = Phase.Chunked;
    } else if (head.contentLength > 0) {
      this.remaining = head.contentLength;
      this.phase = Phase.Length;
    } else this.phase = Phase.Done;
    this.headOnly = this.phase === Phase.Done;
    this.events.onHead(head);
    if (this.headOnly && this.running) this.events.onComplete(null);
    return next;
  }
}

function headerOverflow(): HttpParseError {
  return new HttpParseError('HPE_HEADER_OVERFLOW', 'request head too large');
}
