// The response hooks of a route's plugins, wrapped around the engine's relay (server/relay.ts) the way
// an undici interceptor wraps a handler: onresponse runs before the relay writes the head (so status
// and field changes are honoured), the data hooks run per chunk with backpressure, the end hooks
// before the relay ends the response, the error hooks before the relay answers the error. The relay
// does the writing, framing, trailers and error answer, as for a route without plugins.
import type { IncomingHttpHeaders } from 'node:http';
import { H1Response } from '../server/h1/response.js';
import type { ResponseRelay } from '../server/relay.js';
import type { RawHeaders, UpstreamHandler } from '../upstream/dispatcher.js';
import { forwardableResponseHeaders } from '../server/proxy-response-head.js';
import { errorText } from './error-response.js';
import type { PluginExchange } from './plugin-exchange.js';
import type { HookData, PluginResponse, TargetResponse } from './types.js';

export class ResponseHooks implements UpstreamHandler {
  readonly releasesChunks: boolean;
  private resume: (() => void) | undefined = undefined;
  private statusText = '';
  private raw: RawHeaders = [];
  /** The upstream's head arrived. */
  private headSeen = false;
  /** The onresponse hooks are done: body chunks may go on. */
  private headDone = false;
  /** The relay has the head. */
  private headSent = false;
  /** Chunks waiting for the head or a data hook, with their release (made when first needed). */
  private queue: Buffer[] | undefined = undefined;
  private releases: Array<(() => void) | undefined> | undefined = undefined;
  /** A data hook runs. */
  private processing = false;
  /** The relay reported a full client: wait for its resume. */
  private blocked = false;
  /** The upstream was told to pause. */
  private paused = false;
  private completePending = false;
  private trailers: string[] | null = null;
  /** A response hook answered: the upstream's end or error no longer matters. */
  private upstreamIgnored = false;
  private clientGone = false;

  constructor(
    private readonly x: PluginExchange,
    private readonly relay: ResponseRelay,
  ) {
    // Data hooks may keep chunks; without them the relay's lending applies.
    this.releasesChunks = relay.releasesChunks && !x.chain.responseBody;
    x.ctx.onClientClose = this;
  }

  /** The client went away: the relay aborts the upstream; no error hook runs for that. */
  clientClosed(): void {
    this.clientGone = true;
    this.relay.clientClosed();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.x.abortUpstream = abort;
    this.relay.onConnect(abort);
  }

  onReadEnd(): void {
    this.relay.onReadEnd();
  }

  onHeaders(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText: string,
    readEnds?: boolean,
  ): boolean {
    if (statusCode < 200) return true;
    const x = this.x;
    const res = x.res;
    if (x.settled || res.headersSent || res.writableEnded) return false;
    this.resume = resume;
    this.statusText = statusText;
    this.raw = rawHeaders;
    this.headSeen = true;
    res.statusCode = statusCode;
    x.baseStatus = statusCode;
    if (x.chain.targetResponse) x.targetResponse = targetResponseOf(statusCode, statusText, rawHeaders);
    const stages = x.chain.onresponse;
    if (!stages.length) return this.afterResponseHooks(undefined, false, readEnds);
    let sync = true;
    let result: boolean | undefined;
    x.run(stages, null, (err, stop) => {
      if (sync) result = this.afterResponseHooks(err, stop, readEnds);
      else if (this.afterResponseHooks(err, stop, false)) this.pump();
    });
    sync = false;
    if (result !== undefined) return result;
    this.paused = true;
    return false;
  }

  /** Returns whether the body may flow. */
  private afterResponseHooks(err: unknown, stop: boolean, readEnds: boolean | undefined): boolean {
    const x = this.x;
    const res = x.res;
    if (x.settled) return false;
    if (err) {
      x.fail(err);
      return false;
    }
    if (stop || res.headersSent || res.writableEnded) {
      // A response hook answered (or will, after next(true)): the upstream body is not wanted.
      this.upstreamIgnored = true;
      x.abortUpstream?.(new Error('answered by a plugin'));
      if (res.writableEnded) x.settled = true;
      else x.beginWait(x.chain.onresponse[0]!);
      return false;
    }
    this.headDone = true;
    // With body hooks, hooks may still set fields until the first write (edgemicro).
    if (x.chain.responseBody) return true;
    return this.sendHead(readEnds, -1);
  }

  /** Give the relay the head as the hooks left it; `length` ≥ 0: the whole body's length. */
  private sendHead(readEnds: boolean | undefined, length: number): boolean {
    this.headSent = true;
    const x = this.x;
    const res = x.res;
    const responseBody = x.chain.responseBody;
    let fields: RawHeaders = this.raw;
    if (x.targetResponse) fields = flatten(x.targetResponse.headers, responseBody);
    else if (responseBody) fields = withoutLength(fields);
    if (length >= 0) fields.push('content-length', String(length));
    this.relay.overridden = hasFields(res);
    const status = res.statusCode;
    // The target's reason phrase goes with its status (edgemicro copies it); a status a hook set gets the standard one.
    const text = res.statusMessage || (status === x.baseStatus ? this.statusText : '');
    return this.relay.onHeaders(status, fields, this.onRelayResume, text, readEnds);
  }

  private readonly onRelayResume = (): void => {
    this.blocked = false;
    this.pump();
  };

  onData(chunk: Buffer, release?: () => void): boolean {
    const x = this.x;
    if (x.settled || this.upstreamIgnored) {
      release?.();
      return false;
    }
    if (this.headDone && !x.chain.ondata_response.length && !this.queue?.length && !this.blocked) {
      this.write(chunk, release);
      if (this.blocked) this.paused = true;
      return !this.blocked;
    }
    (this.queue ??= []).push(chunk);
    (this.releases ??= []).push(release);
    this.pump();
    const ok = this.headDone && !this.processing && !this.blocked;
    if (!ok) this.paused = true;
    return ok;
  }

  onComplete(trailers: string[] | null): void {
    if (this.x.settled || this.upstreamIgnored) return;
    this.trailers = trailers;
    this.completePending = true;
    this.pump();
  }

  onError(err: Error): void {
    const x = this.x;
    if (x.settled || this.upstreamIgnored || this.clientGone) return;
    const afterHead = this.headSeen;
    if (afterHead) x.env.stats.incrementResponseErrorCount();
    else x.env.stats.incrementRequestErrorCount();
    const stages = afterHead ? x.chain.onerror_response : x.chain.onerror_request;
    const finish = (): void => {
      if (afterHead) x.fireUpstreamClosed();
      if (x.settled) return;
      x.settled = true;
      this.relay.onError(err);
    };
    if (!stages.length) return finish();
    x.run(stages, err, (herr) => {
      if (herr) x.env.log.warn({ err: errorText(herr) }, 'error hook failed');
      finish();
    });
  }

  /** Move queued chunks through the data hooks to the relay, in order, honouring backpressure. */
  private pump(): void {
    const x = this.x;
    const stages = x.chain.ondata_response;
    const queue = this.queue;
    while (!x.settled && this.headDone && !this.processing && !this.blocked && queue?.length) {
      const chunk = queue.shift()!;
      const release = this.releases!.shift();
      if (!stages.length) {
        this.write(chunk, release);
        continue;
      }
      this.processing = true;
      let sync = true;
      x.run(stages, chunk, (err, stop, out) => {
        this.processing = false;
        if (err) return x.fail(err);
        if (!stop && out !== null && !(out instanceof Error)) this.write(out);
        if (!sync) this.pump();
      });
      sync = false;
    }
    if (x.settled || !this.headDone || this.processing || this.blocked || queue?.length) return;
    if (this.completePending) {
      this.completePending = false;
      this.finish();
    } else if (this.paused) {
      this.paused = false;
      this.resume?.();
    }
  }

  private write(data: Buffer | string, release?: () => void): void {
    if (!this.headSent) this.sendHead(false, -1);
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) {
      release?.();
      return;
    }
    if (!this.relay.onData(chunk, release)) this.blocked = true;
  }

  private finish(): void {
    const x = this.x;
    const end = (last: HookData): void => {
      x.responseDone = true;
      if (last !== null && !(last instanceof Error)) {
        // A body produced whole at the end goes with its length, as node sends `end(body)`.
        if (!this.headSent) this.sendHead(false, Buffer.byteLength(last));
        this.write(last);
      }
      if (!this.headSent) this.sendHead(false, x.chain.responseBody ? 0 : -1);
      // Trailers describe the upstream's body; with body hooks it may have changed.
      this.relay.onComplete(x.chain.responseBody ? null : this.trailers);
    };
    if (!x.chain.onend_response.length) return end(null);
    x.run(x.chain.onend_response, null, (err, stop, out) => {
      if (err) return x.fail(err);
      end(stop ? null : out);
    });
  }
}

/** Fields set on the response before its head (by hooks). */
function hasFields(res: PluginResponse): boolean {
  const r = res as unknown;
  return r instanceof H1Response ? r.fieldCount > 0 : res.getHeaderNames().length > 0;
}

function withoutLength(raw: RawHeaders): string[] {
  const out = forwardableResponseHeaders(raw);
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2)
    if (out[i]!.length !== 14 || out[i]!.toLowerCase() !== 'content-length') kept.push(out[i]!, out[i + 1]!);
  return kept;
}

/** The head as `targetResponse` shows it to hooks. */
function targetResponseOf(status: number, statusText: string, raw: RawHeaders): TargetResponse {
  const list = forwardableResponseHeaders(raw);
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const lower = list[i]!.toLowerCase();
    const v = list[i + 1]!;
    const prev = headers[lower];
    if (prev === undefined) headers[lower] = lower === 'set-cookie' ? [v] : v;
    else if (Array.isArray(prev)) prev.push(v);
    else headers[lower] = `${prev}, ${v}`;
  }
  return { statusCode: status, statusMessage: statusText, headers, rawHeaders: list };
}

/** `targetResponse.headers` as hooks left it, as a field list (a body hook drops the length). */
function flatten(headers: IncomingHttpHeaders, dropLength: boolean): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (dropLength && name === 'content-length') continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}
