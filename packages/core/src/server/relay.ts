// The one upstream handler of a proxied request: it relays the upstream's answer to the client. The
// upstream client calls it directly (no Readable per response, no promise per request); backpressure
// pauses the upstream socket while the client socket drains. Plugin response hooks wrap it
// (pipeline/response-hooks.ts) and call it with what they decided, so the error path, trailers, the
// head conversion and backpressure exist once.
import type { OutgoingHttpHeaders } from 'node:http';
import { classifyUpstreamError } from '../errors/upstream.js';
import type { RawHeaders, UpstreamHandler } from '../upstream/dispatcher.js';
import { addedResponseHeaders, forwardableResponseHeaders } from './proxy-response-head.js';
import { failRequest } from './errors.js';
import { H1Response } from './h1/response.js';
import type { RequestContext } from './request-context.js';

/** Bytes of response body queued for a client before the upstream read pauses (nginx: proxy_buffers 8 × 4k|8k
 *  plus a temp file; we never spool to disk). */
const RESPONSE_BUFFER = 256 * 1024;

export class ResponseRelay implements UpstreamHandler {
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private finished = false;
  /** Made when the client first falls behind (most responses never need it). */
  private onDrain: (() => void) | undefined;
  /** Set for Upgrade requests (server/upgrade.ts). */
  onUpgrade?: UpstreamHandler['onUpgrade'];
  /** HTTP/1 responses return lent chunks from their write callback; HTTP/2 ones get copies. */
  readonly releasesChunks: boolean;
  /** The client response when it is our HTTP/1.1 one (the proxy's own shortcuts). */
  private readonly h1: H1Response | undefined;
  /** A head given with writeHeadHeld, sent at the end of the upstream read at the latest. */
  private headHeld = false;
  /** Fields were set on the client response before the head (by plugin hooks): they win over the
   *  upstream's fields of the same name. */
  overridden = false;

  constructor(private readonly ctx: RequestContext) {
    ctx.onClientClose = this;
    this.releasesChunks = !('stream' in ctx.res);
    this.h1 = ctx.res instanceof H1Response ? ctx.res : undefined;
  }

  /** Give up on the upstream exchange (e.g. the request body stalled past the send timeout). */
  abort(err: Error): void {
    if (!this.finished) this.abortUpstream?.(err);
  }

  /** The client went away before we finished: abort the upstream request, freeing its pool connection. */
  clientClosed(): void {
    if (this.finished) return;
    this.finished = true;
    this.ctx.error ||= 'client_closed';
    this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.finished) abort(new Error('client closed the connection'));
  }

  onHeaders(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText: string,
    readEnds?: boolean,
  ): boolean {
    if (statusCode < 200) return true; // 1xx: we answered Expect ourselves; drop interim responses.
    const ctx = this.ctx;
    const res = ctx.res;
    if (this.finished || res.headersSent) return false;
    let out = forwardableResponseHeaders(rawHeaders);
    if (this.overridden) out = withoutSetFields(res, out);
    // The upstream's fields passed a strict parser; what the engine adds is checked by writeHead.
    const checked = out.length;
    addedResponseHeaders(ctx, out);
    ctx.status = statusCode;
    if ('stream' in res) res.writeHead(statusCode, toObject(out));
    else if (readEnds && this.h1) {
      // The body usually follows in the same read: the head leaves with it, or at onReadEnd.
      this.h1.writeHeadHeld(statusCode, statusText || undefined, out, checked);
      this.headHeld = true;
    } else res.writeHead(statusCode, statusText || undefined, out);
    this.resume = resume;
    return true;
  }

  onReadEnd(): void {
    if (!this.headHeld) return;
    this.headHeld = false;
    this.h1!.flushHeaders();
  }

  onData(chunk: Buffer, release?: () => void): boolean {
    if (this.finished) {
      release?.();
      return false;
    }
    const res = this.ctx.res as { write(c: Buffer, cb?: () => void): boolean; writableLength: number };
    if (release) {
      // HTTP/1: the write's callback runs once the socket has taken the bytes (or failed).
      const ok = this.h1 ? this.h1.writeLent(chunk, release) : res.write(chunk, release);
      if (ok || res.writableLength < RESPONSE_BUFFER) return true;
      this.ctx.res.once('drain', (this.onDrain ??= () => this.resume?.()));
      return false;
    }
    // Pause the upstream only once a few chunks are queued for the client, not whenever the socket's
    // 16 KiB mark is passed: a pause/resume per 64 KiB read halves single-stream throughput. The
    // bound keeps memory per slow client at about RESPONSE_BUFFER plus one read.
    if (res.write(chunk) || res.writableLength < RESPONSE_BUFFER) return true;
    this.ctx.res.once('drain', (this.onDrain ??= () => this.resume?.()));
    return false;
  }

  onComplete(trailers: string[] | null): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.ctx.res;
    if (trailers && trailers.length) {
      const t: OutgoingHttpHeaders = {};
      for (let i = 0; i < trailers.length; i += 2) t[String(trailers[i])] = String(trailers[i + 1]);
      try {
        res.addTrailers(t);
      } catch {
        // Trailers need chunked framing; with content-length they are dropped, as nginx does.
      }
    }
    res.end();
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.ctx.res;
    // An answer already complete (a 413 from the body limit) is left alone.
    if (res.writableEnded) return;
    const e = classifyUpstreamError(err);
    this.ctx.error = e.code;
    if (!res.headersSent) failRequest(this.ctx, e.code, e.detail, false, e.cause ?? err);
    else {
      // Headers are out: cut the connection so a truncated body never looks complete.
      res.destroy(err);
    }
  }
}

/** `fields` without those the response already has (set with setHeader before the head). */
function withoutSetFields(res: RequestContext['res'], fields: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2)
    if (!res.hasHeader(fields[i]!)) out.push(fields[i]!, fields[i + 1]!);
  return out;
}

function toObject(flat: string[]): OutgoingHttpHeaders {
  const o: OutgoingHttpHeaders = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    const v = flat[i + 1]!;
    const prev = o[k];
    if (prev === undefined) o[k] = v;
    else o[k] = Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  return o;
}
