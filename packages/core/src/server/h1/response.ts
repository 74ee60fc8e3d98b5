// The response half of an exchange on our own HTTP/1.1 connection. It offers node's ServerResponse
// API (setHeader/writeHead/write/end, headersSent, 'drain', 'finish', 'close') to the engine and to
// plugins, and writes as little as it can: the head waits for the first body bytes so that a small
// response leaves in one write, and framing (Content-Length, chunked, close-delimited) and the
// Connection field are decided once, when the head is built.
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Stream } from 'node:stream';
import { sameName } from '../../http1/head-scan.js';
import { putField, putLatin1 } from '../../http1/latin1.js';
import { lastToken, listsToken } from '../../http1/syntax.js';
import { httpDateLine, keepAliveText, statusLine } from './head-lines.js';
import { checkField, checkStatusMessage, ResponseFields } from './response-fields.js';
import type { H1Request } from './request.js';

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** Seconds announced in `Keep-Alive: timeout=` (0: not announced). */
  readonly keepAliveSeconds: number;
  /** Every byte of the response was handed to the socket (or it was destroyed). */
  responseDone(res: H1Response): void;
  /** The request is the last the connection takes (max requests per connection). */
  readonly lastRequest: boolean;
  /** Calls `written` of the response under way. */
  readonly onWritten: (err?: Error | null) => void;
  /** Queue a whole small write for the end of the event-loop turn (util/write-batch.ts); the
   *  connection calls `wrote` of the response under way once it is made. */
  queueWrite(data: Uint8Array): void;
  /** Make the queued writes now (before one that is not queued). */
  flushWrites(): void;
}

type WriteCallback = (err?: Error | null) => void;

/** A head and a first body piece up to this size leave as one buffer (one write, no writev). */
const COALESCE = 16 * 1024;
const CRLF = '\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

// Fields buildHead looks for.
const DATE = 1;
const LENGTH = 2;
const TE = 4;
const CONNECTION = 8;
const CLOSE = 16;

const NO_FIELDS: readonly string[] = [];

export class H1Response extends Stream {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  sendDate = true;
  chunkedEncoding = false;
  /** Whether the connection may carry another request after this one. */
  shouldKeepAlive: boolean;
  /** Bytes of this request (head and body, as far as read when the response completes) and of this
   *  response: exact even when requests are pipelined in one read (set by the connection). */
  bytesIn = 0;
  bytesOut = 0;
  /** Fields set with setHeader (node's "progressive" API); null until first used. */
  private out: ResponseFields | null = null;
  /** Fields given to writeHead as a flat list, when no progressive field exists. */
  private flat: readonly string[] | null = null;
  /** The head is settled and not yet written (it leaves with the first body bytes). It is kept as
   *  its parts, written straight into the buffer that carries it: no string is built. */
  private headPending = false;
  private headLine = '';
  /** Name, value, … (the list given to writeHead, or made of the progressive fields). */
  private headFields: readonly string[] = NO_FIELDS;
  /** Lines the response adds: Date, framing, Connection (each '' when not added). */
  private headDate = '';
  private headFraming = '';
  private headConnection = '';
  /** Bytes of the head, final CRLF included. */
  private headLength = 0;
  private hasBody: boolean;
  private trailers: OutgoingHttpHeaders | null = null;
  /** Socket writes issued and completed: the response is finished when they match after end(). */
  private writes = 0;
  private done = 0;
  /** Inside end(): its writes may complete at once, and finishing waits for its last one. */
  private ending = false;
  private finishCallback: WriteCallback | undefined;
  private closeEmitted = false;
  /** Told first when the response closes (completed or aborted), before 'close' listeners: the
   *  engine's request handler, with one direct call instead of a listener per request. */
  closeHandler: { responseClosed(): void } | undefined = undefined;

  constructor(
    readonly req: H1Request,
    private readonly owner: ResponseOwner,
    keepAlive: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
    this.hasBody = req.method !== 'HEAD';
  }

  get socket(): Socket | null {
    return this.destroyed ? null : this.owner.socket;
  }

  get connection(): Socket | null {
    return this.socket;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  get writable(): boolean {
    return !this.writableEnded && !this.destroyed;
  }

  get writableLength(): number {
    return this.owner.socket.writableLength;
  }

  get writableHighWaterMark(): number {
    return this.owner.socket.writableHighWaterMark;
  }

  get writableCorked(): number {
    return this.owner.socket.writableCorked;
  }

  // --- fields (node's progressive API) ---

  setHeader(name: string, value: OutgoingHttpHeader): this {
    if (this.headersSent) throw headersSent('set');
    this.fields().put(name, value);
    return this;
  }

  appendHeader(name: string, value: OutgoingHttpHeader): this {
    if (this.headersSent) throw headersSent('append');
    this.fields().add(name, value);
    return this;
  }

  /** How many fields were set with setHeader (0 without building the field map). */
  get fieldCount(): number {
    return (this.out === null ? 0 : this.out.size) + (this.flat === null ? 0 : this.flat.length / 2);
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.fields().value(name);
  }

  hasHeader(name: string): boolean {
    return this.fields().has(name);
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSent('remove');
    this.fields().remove(name);
  }

  getHeaderNames(): string[] {
    return this.fields().keyList();
  }

  getHeaders(): OutgoingHttpHeaders {
    return this.fields().toObject();
  }

  getRawHeaderNames(): string[] {
    return this.fields().rawNames();
  }

  /** The progressive fields, folding in a flat list given to writeHead before. */
  private fields(): ResponseFields {
    const out = (this.out ??= new ResponseFields());
    const flat = this.flat;
    if (flat !== null) {
      this.flat = null;
      out.addChecked(flat);
    }
    return out;
  }

  // --- head ---

  writeHead(
    status: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    this.settleHead(status, reason, headers);
    // As with node, the head is settled now (headersSent turns true). It leaves with the first body
    // bytes written in this tick, else on its own at the next one: a streamed response's head is
    // relayed when it arrives (nginx), not held until the body begins (node).
    process.nextTick(flushHeadNT, this);
    return this;
  }

  /** writeHead for a caller that writes, ends or calls flushHeaders before it returns to the event
   *  loop (the proxy, at the end of the upstream read that carried the head): no tick to schedule.
   *  The first `checked` entries of `headers` are known to be valid (our strict reader parsed them). */
  writeHeadHeld(status: number, reason: string | undefined, headers: string[], checked = 0): this {
    this.settleHead(status, reason, headers, checked);
    return this;
  }

  private settleHead(
    status: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
    checked = 0,
  ): void {
    if (this.headersSent) throw headersSent('write');
    if (!Number.isInteger(status) || status < 100 || status > 999)
      throw Object.assign(new RangeError(`Invalid status code: ${status}`), {
        code: 'ERR_HTTP_INVALID_STATUS_CODE',
      });
    this.statusCode = status;
    if (typeof reason === 'string') {
      checkStatusMessage(reason);
      this.statusMessage = reason;
    } else if (reason !== undefined) headers = reason;
    if (headers !== undefined && headers !== null) {
      if (Array.isArray(headers)) {
        if (headers.length && Array.isArray(headers[0])) {
          for (const pair of headers as unknown as [string, OutgoingHttpHeader][])
            this.appendHeader(pair[0], pair[1]);
        } else {
          let list = headers as string[];
          if (list.length % 2 !== 0)
            throw Object.assign(new TypeError('headers: a flat list needs an even length'), {
              code: 'ERR_INVALID_ARG_VALUE',
            });
          for (let i = checked; i < list.length; i += 2) {
            const value = list[i + 1] as unknown;
            checkField(list[i]!, String(value));
            // The head is written from strings (a caller may have given numbers).
            if (typeof value !== 'string') {
              if (list === headers) list = list.slice();
              list[i + 1] = String(value);
            }
          }
          // The list's fields override set ones of the same name but keep their own duplicates
          // (node's rule); they follow the set ones in the head.
          this.out?.removeNamed(list);
          this.flat = list;
        }
      } else {
        for (const k of Object.keys(headers)) {
          const v = headers[k];
          if (v !== undefined) this.setHeader(k, v);
        }
      }
    }
    this.buildHead(-1);
  }

  /** Settle the head: framing and the Connection field are decided here. `length` is known for end(data). */
  private buildHead(length: number): void {
    const status = this.statusCode;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.hasBody = false;
    const line = statusLine(status, this.statusMessage);
    let fields: readonly string[] = NO_FIELDS;
    if (this.out !== null) {
      // The set fields, then those given to writeHead.
      const list: string[] = [];
      this.out.appendTo(list);
      if (this.flat !== null) for (const f of this.flat) list.push(f);
      fields = list;
    } else if (this.flat !== null) fields = this.flat;
    let seen = 0;
    for (let i = 0; i < fields.length; i += 2) seen |= this.framing(fields[i]!, fields[i + 1]!);
    const hasLength = (seen & LENGTH) !== 0;
    const hasTe = (seen & TE) !== 0;
    const close = (seen & CLOSE) !== 0;
    this.headDate = this.sendDate && (seen & DATE) === 0 ? httpDateLine() : '';
    let keepAlive = this.shouldKeepAlive && !close;
    let framing = '';
    if (!hasLength && !hasTe && this.hasBody) {
      if (length >= 0) framing = `Content-Length: ${length}\r\n`;
      else if (this.req.httpVersionMinor >= 1) {
        framing = 'Transfer-Encoding: chunked\r\n';
        this.chunkedEncoding = true;
      } else keepAlive = false; // HTTP/1.0 without a length: the body ends with the connection.
    }
    if (this.chunkedEncoding && !this.hasBody) this.chunkedEncoding = false;
    if (keepAlive && this.owner.lastRequest) keepAlive = false;
    this.headConnection =
      (seen & CONNECTION) !== 0
        ? ''
        : keepAlive
          ? keepAliveText(this.owner.keepAliveSeconds)
          : 'Connection: close\r\n';
    this.shouldKeepAlive = keepAlive;
    this.headLine = line;
    this.headFields = fields;
    this.headFraming = framing;
    // Each field adds ': ' and CRLF; the head ends with CRLF.
    let n = line.length + this.headDate.length + framing.length + this.headConnection.length + 2;
    for (let i = 0; i < fields.length; i++) n += fields[i]!.length + 2;
    this.headLength = n;
    this.headPending = true;
    this.headersSent = true;
  }

  /** Write the settled head into `buf` at `at`; returns where it ends. */
  private writeHeadTo(buf: Buffer, at: number): number {
    at = putLatin1(buf, at, this.headLine);
    const f = this.headFields;
    for (let i = 0; i < f.length; i += 2) at = putField(buf, at, f[i]!, f[i + 1]!);
    at = putLatin1(buf, at, this.headDate);
    at = putLatin1(buf, at, this.headFraming);
    at = putLatin1(buf, at, this.headConnection);
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    return at;
  }

  /** The settled head alone, as the buffer that carries it; it is no longer pending. */
  private takeHead(extra: number): Buffer {
    this.headPending = false;
    const buf = Buffer.allocUnsafe(this.headLength + extra);
    this.writeHeadTo(buf, 0);
    this.headFields = NO_FIELDS;
    return buf;
  }

  /** What a field tells about framing and the connection (a bit of DATE…CLOSE, or 0). */
  private framing(name: string, value: string): number {
    switch (name.length) {
      case 4:
        return sameName(name, 0, 'date') ? DATE : 0;
      case 10:
        if (!sameName(name, 0, 'connection')) return 0;
        return listsToken(value, 'close') ? CONNECTION | CLOSE : CONNECTION;
      case 14:
        return sameName(name, 0, 'content-length') ? LENGTH : 0;
      case 17:
        if (!sameName(name, 0, 'transfer-encoding')) return 0;
        this.chunkedEncoding = lastToken(value) === 'chunked';
        return TE;
      default:
        return 0;
    }
  }

  flushHeaders(): void {
    if (!this.headersSent) this.buildHead(-1);
    this.flushPendingHead();
  }

  /** @internal The head written at writeHead's next tick, if no body bytes took it along. */
  flushPendingHead(): void {
    if (!this.headPending || this.destroyed) return;
    this.send(this.takeHead(0), undefined, true);
  }

  writeContinue(cb?: () => void): void {
    if (this.headersSent || this.destroyed) return;
    this.owner.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1', cb);
  }

  addTrailers(headers: OutgoingHttpHeaders): void {
    for (const k of Object.keys(headers)) checkField(k, String(headers[k]));
    this.trailers = { ...this.trailers, ...headers };
  }

  // --- body ---

  write(chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded || this.destroyed) {
      const err = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
      if (cb) process.nextTick(cb, err);
      return false;
    }
    if (!this.headersSent) this.buildHead(-1);
    const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (!this.hasBody || data.length === 0) {
      this.flushPendingHead();
      if (cb) process.nextTick(cb);
      return true;
    }
    this.sendBody(data, cb, false);
    return this.owner.socket.writableLength < this.owner.socket.writableHighWaterMark;
  }

  /** write() of a chunk lent from an upstream read buffer: `release` is called once the bytes are no
   *  longer needed, at once when they were copied into a coalesced write (there is no caller to
   *  protect from a synchronous callback, and no tick to pay for). */
  writeLent(chunk: Buffer, release: () => void): boolean {
    if (this.writableEnded || this.destroyed || !this.hasBody || chunk.length === 0)
      return this.write(chunk, release);
    if (!this.headersSent) this.buildHead(-1);
    this.sendBody(chunk, release, true);
    return this.owner.socket.writableLength < this.owner.socket.writableHighWaterMark;
  }

  end(
    chunk?: string | Uint8Array | WriteCallback,
    encoding?: BufferEncoding | WriteCallback,
    cb?: WriteCallback,
  ): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded || this.destroyed) {
      if (cb) process.nextTick(cb);
      return this;
    }
    const data =
      chunk === undefined || chunk === null
        ? undefined
        : typeof chunk === 'string'
          ? Buffer.from(chunk, encoding as BufferEncoding | undefined)
          : chunk;
    if (!this.headersSent) this.buildHead(this.hasBody ? (data?.length ?? 0) : -1);
    this.writableEnded = true;
    this.finishCallback = cb;
    const body = this.hasBody && data !== undefined && data.length > 0 ? data : undefined;
    this.ending = true;
    if (this.chunkedEncoding) {
      if (body) this.sendBody(body, undefined, false);
      this.sendLastChunk();
    } else if (body) this.sendBody(body, undefined, false);
    else this.flushPendingHead();
    this.ending = false;
    if (this.done === this.writes) this.finish();
    return this;
  }

  /** A body piece with its chunk framing, after the head if that still waits. */
  private sendBody(data: Uint8Array, cb: WriteCallback | undefined, lent: boolean): void {
    const head = this.headPending;
    const size = this.chunkedEncoding ? `${data.length.toString(16)}\r\n` : '';
    const prefixLength = (head ? this.headLength : 0) + size.length;
    if (prefixLength + data.length <= COALESCE && (prefixLength > 0 || this.chunkedEncoding)) {
      // One buffer: the bytes are copied, so a chunk is given back without waiting for the socket:
      // a lent one at once, else on the next tick (a write callback is never called synchronously,
      // as with node).
      const tail = this.chunkedEncoding ? 2 : 0;
      let buf: Buffer;
      let at = 0;
      if (head) {
        buf = this.takeHead(size.length + data.length + tail);
        at = this.headLength;
      } else buf = Buffer.allocUnsafe(prefixLength + data.length + tail);
      if (size) at += buf.write(size, at, 'latin1');
      buf.set(data, at);
      if (tail) buf.write(CRLF, at + data.length, 'latin1');
      this.send(buf, undefined, true);
      if (cb) {
        if (lent) cb();
        else process.nextTick(cb);
      }
      return;
    }
    const socket = this.owner.socket;
    const cork = head || size !== '';
    if (cork) socket.cork();
    if (head) this.send(this.takeHead(0), undefined);
    if (size) this.send(size, undefined);
    this.send(data, cb);
    if (this.chunkedEncoding) this.send(CRLF, undefined);
    if (cork) socket.uncork();
  }

  private sendLastChunk(): void {
    const t = this.trailers;
    let tail: string | Buffer = LAST_CHUNK;
    if (t !== null) {
      let text = '0\r\n';
      for (const k of Object.keys(t)) {
        const v = t[k];
        if (Array.isArray(v)) for (const x of v) text += `${k}: ${x}\r\n`;
        else if (v !== undefined) text += `${k}: ${String(v)}\r\n`;
      }
      tail = text + CRLF;
    }
    if (!this.headPending) return this.send(tail, undefined);
    const buf = this.takeHead(tail.length);
    if (typeof tail === 'string') buf.write(tail, this.headLength, 'latin1');
    else buf.set(tail, this.headLength);
    this.send(buf, undefined);
  }

  /** One socket write; the response is finished when the last of them completes. `atTurnEnd`: a
   *  whole small write (a head, with the body when it fits) that may wait for the end of the
   *  event-loop turn with the other connections' (util/write-batch.ts). */
  private send(data: string | Uint8Array, cb: WriteCallback | undefined, atTurnEnd = false): void {
    this.writes++;
    // A string here is latin1 (heads, chunk sizes): one byte per character.
    this.bytesOut += data.length;
    const owner = this.owner;
    if (atTurnEnd && typeof data !== 'string') return owner.queueWrite(data);
    owner.flushWrites();
    const socket = owner.socket;
    if (cb !== undefined) {
      socket.write(data, (err) => {
        cb(err);
        this.written(err);
      });
      return;
    }
    if (typeof data === 'string') socket.write(data, 'latin1');
    else socket.write(data);
    this.wrote();
  }

  /** @internal A write without a callback was made (here or at the end of the turn). node schedules
   *  a tick to call a write's callback, and that tick's drain is most of what a small response costs
   *  after its syscall. A write the kernel took at once leaves nothing queued (the usual case): done
   *  now. Otherwise an empty write after it calls back once it is out (writes complete in order),
   *  with the connection's one callback, not a closure per response. */
  wrote(): void {
    const socket = this.owner.socket;
    if (socket.writableLength === 0 && !socket.destroyed) this.written(null);
    else socket.write(EMPTY, this.owner.onWritten);
  }

  /** A socket write of this response completed. */
  written(err?: Error | null): void {
    this.done++;
    if (err) this.destroyed = true;
    if (this.writableEnded && this.done === this.writes && !this.ending) this.finish();
  }

  private finish(): void {
    if (this.writableFinished) return;
    this.writableFinished = true;
    const cb = this.finishCallback;
    this.finishCallback = undefined;
    this.emit('finish');
    cb?.();
    this.owner.responseDone(this);
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.closeHandler?.responseClosed();
    this.emit('close');
  }

  /** An upgrade answer opened a tunnel: the response is complete; it closes with the tunnel, its
   *  byte counts kept up to date by the tunnel. */
  tunnelOpened(): void {
    this.writableFinished = true;
  }

  /** The tunnel closed (if the connection has not reported it yet). */
  tunnelClosed(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.closeHandler?.responseClosed();
    this.emit('close');
  }

  /** The connection closed before the response was complete (or destroy() was called). */
  abort(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.destroyed = true;
    this.closeHandler?.responseClosed();
    this.emit('close');
  }

  destroy(err?: Error): this {
    if (!this.destroyed) {
      this.destroyed = true;
      // What was relayed before the cut reaches the client (as when it was written at once).
      this.owner.flushWrites();
      this.owner.socket.destroy(err);
    }
    return this;
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.owner.socket.setTimeout(ms, cb);
    return this;
  }

  cork(): void {
    this.owner.socket.cork();
  }

  uncork(): void {
    this.owner.socket.uncork();
  }
}

function flushHeadNT(res: H1Response): void {
  res.flushPendingHead();
}

function headersSent(what: string): Error {
  return Object.assign(new Error(`Cannot ${what} headers after they are sent to the client`), {
    code: 'ERR_HTTP_HEADERS_SENT',
  });
}
