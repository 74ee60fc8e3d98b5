// The RSA public keys tokens are verified with: the `jwt_public_key` PEM (a certificate or a public
// key) and the `jwk_public_keys` set selected by `kid`. Built once per control-plane poll.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { VerificationKeys } from '../../control-plane/types.js';

export interface KeySet {
  /** The key for a token header's `kid` (JWKS when it has that kid, else the PEM key). */
  select(kid: string | undefined): KeyObject | undefined;
}

function rsa(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${what} is not an RSA key`);
  return key;
}

export function buildKeySet(keys: VerificationKeys): KeySet {
  let pem: KeyObject | undefined;
  if (keys.publicKeyPem) {
    const text = keys.publicKeyPem;
    pem = rsa(
      text.includes('BEGIN CERTIFICATE') ? new X509Certificate(text).publicKey : createPublicKey(text),
      'jwt_public_key',
    );
  }
  const byKid = new Map<string, KeyObject>();
  const anonymous: KeyObject[] = [];
  for (const jwk of keys.jwks ?? []) {
    if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) continue;
    if (jwk.use && jwk.use !== 'sig') continue;
    if (jwk.alg && jwk.alg !== 'RS256') continue;
    const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    if (jwk.kid) byKid.set(jwk.kid, key);
    else anonymous.push(key);
  }
  return {
    select(kid) {
      if (kid !== undefined) {
        const k = byKid.get(kid);
        if (k) return k;
        // A kid the JWKS does not know: only the configured PEM key may still verify it.
        return pem;
      }
      return pem ?? (anonymous.length === 1 ? anonymous[0] : undefined);
    },
  };
}
