// Reads one HTTP/1.1 response at a time from a connection's bytes: the head (strictly parsed, see
// response-head.ts), interim 1xx heads, then the body by its framing — Content-Length, chunked or
// the end of the connection — handed on as views of the socket's buffers, never copied.
import { ChunkedDecoder } from './chunked-decoder.js';
import { findHeadEnd } from './head-scan.js';
import { parseScannedResponseHead, type ResponseHead } from './response-head.js';
import { HttpParseError } from './syntax.js';

export interface ResponseEvents {
  /** An interim (1xx other than an accepted 101) head; the final response follows. */
  onInterim(head: ResponseHead): void;
  /** The final head (or the 101 of an accepted upgrade). */
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The response is complete (after onHead when it has no body). */
  onComplete(trailers: string[] | null): void;
}

const enum Phase {
  Idle,
  Head,
  Length,
  Chunked,
  UntilClose,
  Upgraded,
  Done,
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

const HTTP_SLASH = Buffer.from('HTTP/1.', 'latin1');

/** The bytes from `from` are a prefix of, or start with, `HTTP/1.`. */
function startsLikeHttp(buf: Buffer, from: number): boolean {
  const n = Math.min(HTTP_SLASH.length, buf.length - from);
  return buf.compare(HTTP_SLASH, 0, n, from, from + n) === 0;
}

/** From `from`, every LF in `buf` follows a CR and every CR is followed by LF (or ends `buf`). */
function onlyCrlf(buf: Buffer, from: number): boolean {
  for (let j = buf.indexOf(0x0a, from); j !== -1; j = buf.indexOf(0x0a, j + 1))
    if (j === 0 || buf[j - 1] !== 0x0d) return false;
  for (let j = buf.indexOf(0x0d, from); j !== -1; j = buf.indexOf(0x0d, j + 1))
    if (j + 1 < buf.length && buf[j + 1] !== 0x0a) return false;
  return true;
}

export class ResponseReader {
  private phase = Phase.Idle;
  private isHead = false;
  private upgrade = false;
  /** Head bytes received so far when a head spans reads. */
  private pending: Buffer = EMPTY;
  private remaining = 0;
  private chunked: ChunkedDecoder | undefined;
  /** Cleared by stop(): events stop at once (the connection failed or was handed over). */
  private running = false;

  constructor(
    private readonly events: ResponseEvents,
    private readonly maxHeaderSize: number,
  ) {}

  private readonly onChunk = (chunk: Buffer): void => {
    if (this.running) this.events.onBody(chunk);
  };

  /** Expect the response to a request: `isHead` (HEAD: no body), `upgrade` (a 101 is accepted). */
  expect(isHead: boolean, upgrade: boolean): void {
    this.phase = Phase.Head;
    this.isHead = isHead;
    this.upgrade = upgrade;
    this.pending = EMPTY;
    this.chunked = undefined;
    this.running = true;
  }

  stop(): void {
    this.running = false;
    this.pending = EMPTY;
  }

  /**
   * Take `data`. Returns how many bytes belong to the response (fewer than `data.length` once it
   * is complete or upgraded: the rest is not the response's), or the error.
   */
  execute(data: Buffer): number | HttpParseError {
    let i = 0;
    const n = data.length;
    while (i < n && this.running) {
      switch (this.phase) {
        case Phase.Head: {
          const r = this.readHead(data, i);
          if (typeof r !== 'number') return r;
          i = r;
          break;
        }
        case Phase.Length: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          const chunk = i === 0 && take === n ? data : data.subarray(i, i + take);
          i += take;
          if (this.remaining === 0) this.phase = Phase.Done;
          this.events.onBody(chunk);
          if (this.phase === Phase.Done && this.running) this.events.onComplete(null);
          break;
        }
        case Phase.Chunked: {
          const r = this.chunked!.execute(data, i, this.onChunk);
          if (typeof r !== 'number') return r;
          i = r;
          if (this.chunked!.done && this.running) {
            this.phase = Phase.Done;
            this.events.onComplete(this.chunked!.trailers);
          }
          break;
        }
        case Phase.UntilClose:
          this.events.onBody(i === 0 ? data : data.subarray(i));
          i = n;
          break;
        default:
          // Idle, Done or Upgraded: what follows is not this response's.
          return i;
      }
    }
    return i;
  }

  /** The connection ended: completes a body that runs until then, else the response is cut. */
  finish(): HttpParseError | undefined {
    if (this.phase === Phase.UntilClose) {
      this.phase = Phase.Done;
      if (this.running) this.events.onComplete(null);
      return undefined;
    }
    if (this.phase === Phase.Done || this.phase === Phase.Idle) return undefined;
    return new HttpParseError('HPE_INVALID_EOF_STATE', 'the connection ended inside the response');
  }

  private readHead(data: Buffer, i: number): number | HttpParseError {
    const had = this.pending.length;
    if (had === 0) {
      // Empty lines before a message carry nothing; llhttp skips them too (RFC 9112 §2.2).
      while (i < data.length && (data[i] === 0x0d || data[i] === 0x0a)) i++;
      if (i === data.length) return i;
      // The usual case: the whole head in this read, scanned where it lies.
      const end = findHeadEnd(data, i, Math.min(data.length, i + this.maxHeaderSize + 4));
      if (typeof end !== 'number') return end;
      if (end !== -1) return this.takeHead(data, i, end) ?? end + 4;
      if (data.length - i > this.maxHeaderSize)
        return new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
      return this.holdPartial(Buffer.from(data.subarray(i)), 0) ?? data.length;
    }
    // A head spanning reads: continue the search where the last one stopped.
    const buf = Buffer.concat([this.pending, data.subarray(i)]);
    const searchFrom = had - 3 > 0 ? had - 3 : 0;
    const end = buf.indexOf(CRLFCRLF, searchFrom);
    if (end === -1) {
      if (buf.length > this.maxHeaderSize)
        return new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
      return this.holdPartial(buf, searchFrom) ?? data.length;
    }
    if (end > this.maxHeaderSize) return new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
    this.pending = EMPTY;
    const found = findHeadEnd(buf, 0, end + 4);
    if (typeof found !== 'number') return found;
    // The scan stops at the first CRLF CRLF, which is `end` (no earlier one was found before).
    if (found !== end) return new HttpParseError('HPE_STRICT', 'malformed response head');
    // Where the body starts in `data` (the head's last bytes are always in `data`).
    return this.takeHead(buf, 0, found) ?? i + end + 4 - had;
  }

  /** Keep the start of a head (a buffer of our own) until the rest arrives, refusing now what can
   *  never become a valid head (it may never end: a server that is not HTTP waits for us to speak). */
  private holdPartial(head: Buffer, searchFrom: number): HttpParseError | undefined {
    if (!startsLikeHttp(head, 0))
      return new HttpParseError('HPE_INVALID_CONSTANT', 'not an HTTP/1.x response');
    if (!onlyCrlf(head, searchFrom))
      return new HttpParseError('HPE_STRICT', 'bare CR or LF in the response head');
    this.pending = head;
    return undefined;
  }

  /** Parse a whole head just found by findHeadEnd and set up what follows it. */
  private takeHead(buf: Buffer, start: number, end: number): HttpParseError | undefined {
    const head = parseScannedResponseHead(buf, start, end);
    if (head instanceof HttpParseError) return head;
    return this.startBody(head);
  }

  private startBody(head: ResponseHead): HttpParseError | undefined {
    const status = head.status;
    if (status < 200) {
      if (status === 101) {
        if (!this.upgrade)
          return new HttpParseError(
            'HPE_INVALID_STATUS',
            '101 Switching Protocols without an upgrade request',
          );
        this.phase = Phase.Upgraded;
        this.events.onHead(head);
        return undefined;
      }
      // Interim: the final head follows (phase stays Head).
      this.events.onInterim(head);
      return undefined;
    }
    if (this.isHead || status === 204 || status === 304) {
      this.phase = Phase.Done;
      this.events.onHead(head);
      if (this.running) this.events.onComplete(null);
      return undefined;
    }
    if (head.chunked) {
      this.chunked = new ChunkedDecoder(this.maxHeaderSize);
      this.phase = Phase.Chunked;
    } else if (head.transferEncoding || head.contentLength === -1) {
      // No length: the body runs until the connection ends, which also ends keep-alive.
      head.keepAlive = false;
      this.phase = Phase.UntilClose;
    } else if (head.contentLength === 0) this.phase = Phase.Done;
    else {
      this.remaining = head.contentLength;
      this.phase = Phase.Length;
    }
    this.events.onHead(head);
    if (this.phase === Phase.Done && this.running) this.events.onComplete(null);
    return undefined;
  }
}
