// Test signing keys and a JWT signer that can forge what attackers send (alg none, HS256, any claims).
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestKeys {
  readonly privateKey: KeyObject;
  readonly privatePem: string;
  readonly publicPem: string;
  readonly jwk: { kty: string; n: string; e: string };
}

export function makeKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
  return {
    privateKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e },
  };
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export interface SignOptions {
  readonly alg?: 'RS256' | 'none' | 'HS256';
  readonly kid?: string;
  /** HS256 secret (an attacker uses the public key PEM). */
  readonly hmacSecret?: string;
}

export function signJwt(keys: TestKeys, claims: Record<string, unknown>, opts: SignOptions = {}): string {
  const alg = opts.alg ?? 'RS256';
  const header = b64({ alg, typ: 'JWT', ...(opts.kid ? { kid: opts.kid } : {}) });
  const input = `${header}.${b64(claims)}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'HS256')
    return `${input}.${createHmac('sha256', opts.hmacSecret ?? keys.publicPem)
      .update(input)
      .digest('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), keys.privateKey).toString('base64url')}`;
}

/** Claims as edgemicro-auth issues them, valid for 30 minutes. */
export function claimsFor(products: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    application_name: 'app1',
    client_id: 'client-1',
    developer_email: 'dev@example.com',
    api_product_list: products,
    iss: 'https://org-test.apigee.net/edgemicro-auth/verifyApiKey',
    aud: 'microgateway',
    iat: now,
    nbf: now,
    exp: now + 1800,
    ...extra,
  };
}
