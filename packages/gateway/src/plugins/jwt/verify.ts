// RS256 JWT verification with node:crypto: strict compact-form parsing, `alg` exactly RS256 (never
// `none`, never HS* keyed with the public key), `aud` containing `microgateway`, `iss` when
// configured, `exp` required and `exp`/`nbf` checked with a grace period. Verified signatures are
// cached by token text, so a repeated token costs a map lookup and a clock read, no RSA work.
import { verify as rsaVerify } from 'node:crypto';
import type { KeySet } from './keys.js';

export type Claims = Readonly<Record<string, unknown>>;

/** Why a token was refused; `unparseable` maps to edgemicro's "token could not be parsed". */
export type JwtFailure = 'unparseable' | 'invalid';

export class JwtError extends Error {
  constructor(
    readonly failure: JwtFailure,
    readonly reason: string,
  ) {
    super(`token refused: ${reason}`);
    this.name = 'JwtError';
  }
}

export interface JwtPolicy {
  /** Seconds of clock skew tolerated on `exp` and `nbf` (edgemicro `gracePeriod`). */
  readonly gracePeriodSec: number;
  /** Required `aud` value. */
  readonly audience: string;
  /** Required `iss` when set. */
  readonly issuer?: string;
  /** Bound on the verified-token cache. */
  readonly cacheSize: number;
}

const B64URL = /^[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 16 * 1024;

function part(text: string): Record<string, unknown> {
  if (!B64URL.test(text)) throw new JwtError('unparseable', 'bad base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('unparseable', 'bad JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new JwtError('unparseable', 'not a JSON object');
  return value as Record<string, unknown>;
}

/** Decode without verifying (header and claims). */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('unparseable', 'too long');
  const dots = token.split('.');
  if (dots.length !== 3) throw new JwtError('unparseable', 'not three parts');
  return { header: part(dots[0]!), claims: part(dots[1]!) };
}

interface Verified {
  readonly claims: Claims;
}

export class JwtVerifier {
  // Insertion-ordered: the oldest entry is evicted first.
  private readonly cache = new Map<string, Verified>();

  constructor(
    private readonly keys: KeySet,
    private readonly policy: JwtPolicy,
  ) {}

  /** Verified claims, or a JwtError. `nowMs` is injectable for tests. */
  verify(token: string, nowMs = Date.now()): Claims {
    let hit = this.cache.get(token);
    if (!hit) {
      hit = { claims: this.verifySignature(token) };
      if (this.policy.cacheSize > 0) {
        if (this.cache.size >= this.policy.cacheSize) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(token, hit);
      }
    }
    this.checkClaims(hit.claims, nowMs);
    return hit.claims;
  }

  private verifySignature(token: string): Claims {
    const { header, claims } = decodeJwt(token);
    if (header.alg !== 'RS256') throw new JwtError('invalid', 'alg is not RS256');
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== 'string') throw new JwtError('invalid', 'bad kid');
    const key = this.keys.select(kid);
    if (!key) throw new JwtError('invalid', 'no key for token');
    const dot = token.lastIndexOf('.');
    const sig = token.slice(dot + 1);
    if (!B64URL.test(sig)) throw new JwtError('invalid', 'bad signature encoding');
    const ok = rsaVerify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(sig, 'base64url'));
    if (!ok) throw new JwtError('invalid', 'bad signature');
    return Object.freeze(claims);
  }

  private checkClaims(claims: Claims, nowMs: number): void {
    const now = nowMs / 1000;
    const grace = this.policy.gracePeriodSec;
    const { exp, nbf, aud, iss } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new JwtError('invalid', 'no exp');
    if (now > exp + grace) throw new JwtError('invalid', 'expired');
    if (nbf !== undefined && (typeof nbf !== 'number' || now + grace < nbf))
      throw new JwtError('invalid', 'not yet valid');
    const auds = Array.isArray(aud) ? aud : [aud];
    if (!auds.includes(this.policy.audience)) throw new JwtError('invalid', 'wrong aud');
    if (this.policy.issuer !== undefined && iss !== this.policy.issuer)
      throw new JwtError('invalid', 'wrong iss');
  }
}
