// verifyApiKey results cached per key: one call for any number of requests with one key, concurrent
// first requests included (single flight), kept until the token's `exp` and bounded in count. Only
// successful verdicts are kept; a refusal is shared by the requests that waited on it, no longer.
import type { ApiKeyVerdict, ApiKeyVerifier } from '../../control-plane/types.js';
import { decodeJwt } from '../jwt/verify.js';

export interface KeyCacheOptions {
  /** Most keys kept. */
  readonly maxEntries: number;
  /** Upper bound on how long a verdict is reused, whatever the token's expiry (ms). */
  readonly maxTtlMs: number;
}

export interface Entry {
  readonly verdict: ApiKeyVerdict & { ok: true };
  readonly expiresAt: number;
}

export class CachingVerifier implements ApiKeyVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ApiKeyVerdict>>();
  /** Calls made to the underlying verifier (tests and metrics). */
  calls = 0;

  constructor(
    private readonly inner: ApiKeyVerifier,
    private readonly options: KeyCacheOptions,
  ) {}

  /** A still-valid cached verdict, if any. Expired entries stay (bounded) for `stale`. */
  cached(apiKey: string, now = Date.now()): ApiKeyVerdict | undefined {
    const e = this.entries.get(apiKey);
    return e && e.expiresAt > now ? e.verdict : undefined;
  }

  /** The last good verdict for a key if it expired less than `graceMs` ago (failOpen). */
  stale(apiKey: string, graceMs: number, now = Date.now()): Entry | undefined {
    const e = this.entries.get(apiKey);
    return e && e.expiresAt + graceMs > now ? e : undefined;
  }

  verify(apiKey: string): Promise<ApiKeyVerdict> {
    const hit = this.cached(apiKey);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(apiKey);
    if (!p) {
      this.calls++;
      p = this.inner.verify(apiKey).then(
        (verdict) => {
          this.inflight.delete(apiKey);
          if (verdict.ok) this.store(apiKey, verdict);
          return verdict;
        },
        (err: unknown) => {
          this.inflight.delete(apiKey);
          throw err;
        },
      );
      this.inflight.set(apiKey, p);
    }
    return p;
  }

  clear(): void {
    this.entries.clear();
  }

  private store(apiKey: string, verdict: ApiKeyVerdict & { ok: true }): void {
    let exp: unknown;
    try {
      exp = decodeJwt(verdict.token).claims.exp;
    } catch {
      return;
    }
    if (typeof exp !== 'number') return;
    const now = Date.now();
    const expiresAt = Math.min(exp * 1000, now + this.options.maxTtlMs);
    if (expiresAt <= now) return;
    if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(apiKey, { verdict, expiresAt });
  }
}
