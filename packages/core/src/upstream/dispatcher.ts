// The interface between the engine and an upstream client. It is undici's dispatch shape (so the
// egress-proxy path can still hand requests to undici's ProxyAgent), narrowed to what the engine
// uses: one handler object per exchange, no promise and no stream per request.
import type { Duplex } from 'node:stream';

export interface UpstreamRequest {
  /** `scheme://host:port` of the upstream (informational for our pool; undici's agents route on it). */
  origin?: string;
  /** Request target in origin form, sent as is. */
  path: string;
  method: string;
  /** Flat list of name, value pairs: hop-by-hop fields already removed by the engine. */
  headers: string[];
  /** null (no body), a whole body, or a stream read with backpressure. */
  body: NodeJS.ReadableStream | Buffer | string | null;
  /** Time allowed until the response head has arrived (nginx proxy_read_timeout). */
  headersTimeout?: number;
  /** Time allowed between two reads of the response body. */
  bodyTimeout?: number;
  /** Do not reuse the connection after this exchange. */
  reset?: boolean;
  /** Safe to send again on a fresh connection if a reused one turns out to be closed. */
  idempotent?: boolean;
  /** Protocol for an Upgrade request (`websocket`): a 101 hands the socket to `onUpgrade`. */
  upgrade?: string;
}

/** Response header fields as received: latin1 strings from our client, Buffers from undici's. */
export type RawHeaders = Array<string | Buffer>;

export interface UpstreamHandler {
  /** Called once the request is accepted; `abort` fails the exchange (and frees its connection). */
  onConnect?(abort: (err?: Error) => void): void;
  /** The response head. Return false to pause the body until `resume` is called. `readEnds` is true
   *  when the dispatcher calls `onReadEnd` once the events of the read that carried the head have
   *  been delivered (our HTTP/1.1 pool; undici's dispatchers leave it undefined). */
  onHeaders?(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText: string,
    readEnds?: boolean,
  ): boolean;
  /** The events of one read of the response have been delivered (see `readEnds`): work batched
   *  within a read, such as a response head waiting for its first body bytes, is due now. */
  onReadEnd?(): void;
  /** A piece of the response body. Return false to pause until `resume`. When `release` is given,
   *  the chunk's memory is lent: call `release` once it is no longer needed (after the write that
   *  carries it has completed), and do not keep the chunk after that. Handlers that may keep chunks
   *  do not set `releasesChunks`: their chunks' memory is theirs. */
  onData?(chunk: Buffer, release?: () => void): boolean;
  /** This handler calls `release` for lent chunks (see onData). */
  readonly releasesChunks?: boolean;
  /** The response is complete; trailers as a flat name/value list, or null. */
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
  /** A 101 answer to an Upgrade request: the socket now belongs to the handler. */
  onUpgrade?(statusCode: number, rawHeaders: RawHeaders, socket: Duplex): void;
}

export interface PoolStats {
  connected: number;
  free: number;
  pending: number;
  running: number;
}

export interface UpstreamDispatcher {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean;
  /** Finish what is running, then close. */
  close(): Promise<void>;
  /** Close everything now; pending requests fail. */
  destroy(): Promise<void>;
  readonly stats?: PoolStats;
}

/** A header field of `RawHeaders` as a string (latin1, as HTTP/1 field bytes are). */
export function headerText(v: string | Buffer): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}
