// Raw-socket HTTP/1.1 clients for hostile-input tests: send exact bytes (or trickle them), then read
// what comes back until the peer closes or a deadline passes. node:http cannot send malformed
// requests, so smuggling vectors need this.
import net from 'node:net';

export interface RawResult {
  /** Everything the server sent, latin1. */
  raw: string;
  /** Status code of the first response, if any. */
  status: number | undefined;
  /** Status codes of every response head seen (pipelined or smuggled requests answer twice). */
  statuses: number[];
  /** True when the server closed (or reset) the connection before the deadline. */
  closed: boolean;
  /** Body of the first response (after the blank line), latin1. */
  body: string;
  /** Headers of the first response, lower-cased names. */
  headers: Record<string, string>;
}

export interface RawOptions {
  /** Give up waiting for the server to close after this long (the connection counts as open). */
  timeoutMs?: number;
  /** Half-close our side after sending (a peer may then close even when it would keep alive). */
  endAfterSend?: boolean;
  /** More bytes to write, each `[ms after connecting, bytes]` (a body that arrives late). */
  later?: Array<[number, string | Buffer]>;
}

function parseRaw(raw: string, closed: boolean): RawResult {
  // Walk the responses one by one using their framing (Content-Length or chunked), so a second
  // response right after a body is seen as such.
  const statuses: number[] = [];
  const headers: Record<string, string> = {};
  let body = '';
  let pos = 0;
  while (pos < raw.length) {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw.slice(pos, pos + 16));
    const headEnd = raw.indexOf('\r\n\r\n', pos);
    if (!m || headEnd === -1) break;
    const h: Record<string, string> = {};
    for (const line of raw.slice(pos, headEnd).split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) h[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let next = headEnd + 4;
    let b: string;
    if (h['content-length'] !== undefined) {
      b = raw.slice(next, next + Number(h['content-length']));
      next += b.length;
    } else if (/chunked/i.test(h['transfer-encoding'] ?? '')) {
      b = '';
      for (;;) {
        const eol = raw.indexOf('\r\n', next);
        if (eol === -1) break;
        const size = parseInt(raw.slice(next, eol), 16);
        next = eol + 2;
        if (!size) {
          next += 2;
          break;
        }
        b += raw.slice(next, next + size);
        next += size + 2;
      }
    } else {
      b = raw.slice(next);
      next = raw.length;
    }
    if (statuses.length === 0) {
      Object.assign(headers, h);
      body = b;
    }
    statuses.push(Number(m[1]));
    pos = next;
  }
  return { raw, status: statuses[0], statuses, closed, body, headers };
}

/** Send `data` in one write (or each element of an array as its own write) and collect the answer. */
export function rawRequest(
  port: number,
  data: string | Buffer | Array<string | Buffer>,
  opts: RawOptions = {},
): Promise<RawResult> {
  const timeoutMs = opts.timeoutMs ?? 1500;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1'), closed));
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) socket.write(p);
      for (const [delay, more] of opts.later ?? [])
        setTimeout(() => socket.writable && socket.write(more), delay).unref();
      if (opts.endAfterSend) socket.end();
    });
  });
}

/** A connection that trickles bytes on a timer; `stop()` resolves with what the server sent. */
export interface Trickle {
  socket: net.Socket;
  /** Resolves when the server closed the connection (with the time it took since open), or never. */
  closedAt: Promise<number>;
  received(): string;
  stop(): void;
}

export function trickle(port: number, head: string, next: () => string, everyMs: number): Trickle {
  const socket = net.connect({ host: '127.0.0.1', port });
  const started = Date.now();
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const closedAt = new Promise<number>((resolve) => {
    socket.on('close', () => {
      if (timer) clearInterval(timer);
      resolve(Date.now() - started);
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (!socket.destroyed && socket.writable) socket.write(next());
    }, everyMs);
  });
  return {
    socket,
    closedAt,
    received: () => Buffer.concat(chunks).toString('latin1'),
    stop: () => {
      if (timer) clearInterval(timer);
      socket.destroy();
    },
  };
}

/** Open a plain TCP connection and wait until it is established (or refused). */
export function connectIdle(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolve when the socket closes, or with false after `ms`. */
export function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** `rawRequest` reduced to the text the server sent, waiting up to `ms` (with bytes sent `later`). */
export async function rawText(
  port: number,
  data: string | Buffer,
  ms = 2000,
  later: Array<[number, string | Buffer]> = [],
): Promise<string> {
  return (await rawRequest(port, data, { timeoutMs: ms, later })).raw;
}
