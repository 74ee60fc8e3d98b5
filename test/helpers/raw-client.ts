// A raw HTTP/1.x client connection for connection-conformance tests. It writes exact bytes (at once or
// in timed pieces) and reads responses one at a time, framed the way a client frames them (RFC 9112
// §6.3: HEAD, 1xx, 204 and 304 have no body; then chunked, Content-Length, or until the close), so a
// stray or missing body byte makes the next response fail to parse. It also records how and when the
// server ended the connection (FIN, reset) and any error a write met.
import net from 'node:net';

type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface RawResponse {
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  status: number;
  reason: string;
  /** Header fields as sent, in order. */
  fields: Array<[name: string, value: string]>;
  /** Lower-cased names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  /** How the body was delimited. */
  framing: Framing;
  /** The body without chunk framing. */
  body: Buffer;
  /** Trailer fields of a chunked body, lower-cased names. */
  trailers: Record<string, string>;
  /** The response exactly as received, latin1. */
  raw: string;
}

function fieldsOf(lines: string[]): Array<[string, string]> {
  return lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header field: ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
}

function byName(fields: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of fields) {
    const k = name.toLowerCase();
    out[k] = out[k] === undefined ? value : `${out[k]}, ${value}`;
  }
  return out;
}

/** Read a chunked body from `pos`; undefined when more bytes are needed. */
function readChunked(
  buf: Buffer,
  pos: number,
): { body: Buffer; trailers: Record<string, string>; end: number } | undefined {
  const parts: Buffer[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol === -1) return undefined;
    const sizeText = buf.toString('latin1', pos, eol).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) break;
    if (buf.length < pos + size + 2) return undefined;
    parts.push(Buffer.from(buf.subarray(pos, pos + size)));
    if (buf.toString('latin1', pos + size, pos + size + 2) !== '\r\n') throw new Error('chunk overrun');
    pos += size + 2;
  }
  const lines: string[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol === -1) return undefined;
    const line = buf.toString('latin1', pos, eol);
    pos = eol + 2;
    if (line === '') break;
    lines.push(line);
  }
  return { body: Buffer.concat(parts), trailers: byName(fieldsOf(lines)), end: pos };
}

/**
 * Parse the response at the start of `buf` to a request with `method`. Undefined when more bytes are
 * needed (a close-delimited body is complete only once `peerClosed`); throws on bytes that are not a
 * response.
 */
function parseResponse(
  buf: Buffer,
  method: string,
  peerClosed: boolean,
): { response: RawResponse; length: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  const start = buf.toString('latin1', 0, Math.min(buf.length, 7));
  if (!'HTTP/1.'.startsWith(start))
    throw new Error(`not a response: ${JSON.stringify(buf.toString('latin1', 0, 80))}`);
  if (headEnd === -1) return undefined;
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  const m = /^(HTTP\/1\.[01]) (\d{3}) (.*)$/.exec(lines[0]!);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const fields = fieldsOf(lines.slice(1));
  const headers = byName(fields);
  const status = Number(m[2]);
  let pos = headEnd + 4;
  let framing: Framing;
  let body: Buffer = Buffer.alloc(0);
  let trailers: Record<string, string> = {};
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = 'none';
  else if (/(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) {
    framing = 'chunked';
    const chunked = readChunked(buf, pos);
    if (!chunked) return undefined;
    ({ body, trailers } = chunked);
    pos = chunked.end;
  } else if (headers['transfer-encoding'] === undefined && headers['content-length'] !== undefined) {
    framing = 'length';
    if (!/^\d+$/.test(headers['content-length']))
      throw new Error(`bad Content-Length ${headers['content-length']}`);
    const n = Number(headers['content-length']);
    if (buf.length < pos + n) return undefined;
    body = Buffer.from(buf.subarray(pos, pos + n));
    pos += n;
  } else {
    framing = 'close';
    if (!peerClosed) return undefined;
    body = Buffer.from(buf.subarray(pos));
    pos = buf.length;
  }
  const response = {
    version: m[1]!,
    status,
    reason: m[3]!,
    fields,
    headers,
    framing,
    body,
    trailers,
    raw: buf.toString('latin1', 0, pos),
  };
  return { response, length: pos };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RawConnection {
  /** Received bytes not yet returned by next(). */
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();
  /** Every byte received so far. */
  receivedBytes = 0;
  /** The server sent FIN. */
  ended = false;
  /** The socket is closed (both ways, reset, or destroyed). */
  closed = false;
  /** Date.now() when it closed. */
  closedAt = 0;
  /** The first socket error (ECONNRESET, EPIPE …). */
  error: string | undefined;

  private constructor(readonly socket: net.Socket) {
    const changed = (): void => {
      for (const w of [...this.waiters]) w();
    };
    socket.on('data', (c: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, c]) : c;
      this.receivedBytes += c.length;
      changed();
    });
    socket.on('end', () => {
      this.ended = true;
      changed();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??= e.code ?? e.message;
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      changed();
    });
  }

  /** Connect to 127.0.0.1:`port`; `allowHalfOpen` keeps our side writable after the server's FIN. */
  static open(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawConnection> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: opts.allowHalfOpen ?? false });
    socket.setNoDelay(true);
    const conn = new RawConnection(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(conn));
      socket.once('error', reject);
    });
  }

  /** Write unless the socket is gone; false when it is (or the write had to be buffered). */
  write(data: string | Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Write each piece on its own, `gapMs` apart. */
  async writePieces(pieces: Array<string | Buffer>, gapMs: number): Promise<void> {
    for (const [i, p] of pieces.entries()) {
      if (i > 0) await sleep(gapMs);
      this.write(p);
    }
  }

  /** Half-close: send FIN, keep reading. */
  end(): void {
    this.socket.end();
  }

  /** The next response to a request with `method`; rejects when none is complete within `ms` or the
   *  connection ends first. */
  async next(method = 'GET', ms = 3000): Promise<RawResponse> {
    const deadline = Date.now() + ms;
    for (;;) {
      const parsed = parseResponse(this.buffer, method, this.ended || this.closed);
      if (parsed) {
        this.buffer = this.buffer.subarray(parsed.length);
        return parsed.response;
      }
      const got = JSON.stringify(this.buffer.toString('latin1', 0, 200));
      if (this.ended || this.closed)
        throw new Error(`connection ended before a complete response; got ${got}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${ms} ms; got ${got}`);
      await this.changed(left);
    }
  }

  /** Resolve true once the socket is closed, false after `ms`. */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.changed(left);
    }
    return true;
  }

  /** Received bytes that no next() consumed, latin1. */
  unread(): string {
    return this.buffer.toString('latin1');
  }

  close(): void {
    this.socket.destroy();
  }

  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
