// A small in-memory response cache for internal routes (nginx `proxy_cache` on the token
// subrequest). Concurrent misses share one upstream fetch: nginx without `proxy_cache_lock` would
// fetch once per waiting request.
import type { IncomingHttpHeaders } from 'node:http';
import { classifyUpstreamError } from '../errors/upstream.js';
import { isHopByHop } from '../http1/hop-headers.js';
import { UPSTREAM_DEFAULTS } from './pools.js';
import { headerText, type UpstreamDispatcher } from './dispatcher.js';

export interface CachedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const MAX_BODY = 1024 * 1024;

export class ResponseCache {
  private readonly entries = new Map<string, { expires: number; value: Promise<CachedResponse> }>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, validMs: number, fetch: () => Promise<CachedResponse>): Promise<CachedResponse> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = fetch();
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry = { expires: now + validMs, value };
    this.entries.set(key, entry);
    // A failed fetch is not cached: the next request tries again.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** Fetch a whole (small) response through a pool. */
  static fetch(
    pool: UpstreamDispatcher,
    origin: string,
    method: string,
    path: string,
    headers: string[],
    readTimeoutMs = UPSTREAM_DEFAULTS.readTimeoutMs,
  ): Promise<CachedResponse> {
    return new Promise((resolve, reject) => {
      let status = 0;
      const out: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let abort: ((e?: Error) => void) | undefined;
      pool.dispatch(
        {
          origin,
          path,
          method,
          headers: stripBodyHeaders(headers),
          body: null,
          headersTimeout: readTimeoutMs,
          bodyTimeout: readTimeoutMs,
        },
        {
          onConnect(a) {
            abort = a;
          },
          onHeaders(code, raw) {
            if (code < 200) return true;
            status = code;
            for (let i = 0; i < raw.length; i += 2) {
              const k = headerText(raw[i]!).toLowerCase();
              if (isHopByHop(k)) continue;
              const v = headerText(raw[i + 1]!);
              const prev = out[k];
              out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : ([prev, v] as string[]);
            }
            return true;
          },
          onData(chunk) {
            size += chunk.length;
            if (size > MAX_BODY) {
              abort?.(new Error('cached response larger than 1 MiB'));
              return false;
            }
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            const body = Buffer.concat(chunks);
            out['content-length'] = String(body.length);
            delete out['transfer-encoding'];
            resolve({ status, headers: out, body });
          },
          onError(err) {
            reject(classifyUpstreamError(err));
          },
        },
      );
    });
  }
}

/** A subrequest carries the client's headers but never its body. */
function stripBodyHeaders(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'content-type') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
