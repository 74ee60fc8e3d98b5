// `extauth` (edgemicro's namesake): a Bearer JWT from an external identity provider, RS256 only,
// verified with `public_keys` (the runtime may inject them) or the keys fetched once from
// `publickey_url` at init; `keyType` jwk (by kid) or pem; `iss` when configured; `exp` (default
// true) checks exp/nbf. A valid token's `client_id` claim (or the configured claim) becomes the
// x-api-key header for a later oauth/apikeys plugin. Errors (§4.9): missing 401, no kid 401
// invalid_token, unknown kid 401 invalid_authorization, invalid 403 "JWT is invalid"; with
// `sendErr: false` the request continues without credentials.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import { authError } from '../auth/errors.js';
import type { GatewayPluginContext } from '../context.js';
import type { KeySet } from '../jwt/keys.js';
import { decodeJwt, JwtError, JwtVerifier } from '../jwt/verify.js';
import { bool, PluginConfigError, sectionOf, str } from '../shared/options.js';

const BEARER = /^Bearer (.+)$/;

function keyFrom(value: unknown): KeyObject | undefined {
  try {
    if (typeof value === 'string')
      return value.includes('BEGIN CERTIFICATE')
        ? new X509Certificate(value).publicKey
        : createPublicKey(value);
    if (value && typeof value === 'object' && (value as { kty?: unknown }).kty === 'RSA')
      return createPublicKey({ key: value as { kty: 'RSA'; n: string; e: string }, format: 'jwk' });
  } catch {
    return undefined;
  }
  return undefined;
}

/** Keys by kid from a JWKS ({keys:[…]}) or a kid → key map (Google's v1/certs shape). */
function keysByKid(doc: unknown): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  if (!doc || typeof doc !== 'object') return out;
  const keys = (doc as { keys?: unknown }).keys;
  if (Array.isArray(keys)) {
    for (const k of keys) {
      const kid = (k as { kid?: unknown })?.kid;
      const key = keyFrom(k);
      if (typeof kid === 'string' && key?.asymmetricKeyType === 'rsa') out.set(kid, key);
    }
    return out;
  }
  for (const [kid, v] of Object.entries(doc)) {
    const key = keyFrom(v);
    if (key?.asymmetricKeyType === 'rsa') out.set(kid, key);
  }
  return out;
}

function fetchText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1024 * 1024) req.destroy(new Error('extauth public keys larger than 1 MiB'));
        else chunks.push(c);
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Buffer.concat(chunks).toString('utf8'))
          : reject(new Error(`extauth publickey_url answered ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('extauth publickey_url timed out')));
    req.on('error', reject);
  });
}

export function extauth(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'extauth',
    async init(initConfig) {
      const s = sectionOf(gctx.config, 'extauth', initConfig);
      const keyType = str(s, 'extauth', 'keyType', 'jwk');
      if (keyType !== 'jwk' && keyType !== 'pem')
        throw new PluginConfigError('extauth', 'keyType', '"jwk" or "pem"');
      const claim = str(s, 'extauth', 'client_id', 'client_id');
      const sendErr = bool(s, 'extauth', 'sendErr', true);
      const keep = bool(s, 'extauth', 'keep-authorization-header', false);
      let material: unknown = s.public_keys;
      const url = str(s, 'extauth', 'publickey_url');
      if (material === undefined && url) material = await fetchText(url, 5000);
      if (material === undefined)
        throw new PluginConfigError('extauth', 'publickey_url', 'set (or public_keys given)');
      if (keyType === 'jwk' && typeof material === 'string') {
        try {
          material = JSON.parse(material);
        } catch {
          throw new PluginConfigError('extauth', 'public_keys', 'a JWKS document');
        }
      }
      const policy = {
        gracePeriodSec: 0,
        audience: str(s, 'extauth', 'aud'),
        issuer: str(s, 'extauth', 'iss'),
        checkTimes: bool(s, 'extauth', 'exp', true),
        cacheSize: 1000,
      };
      const single = (key: KeyObject): KeySet => ({ select: () => key });
      let pemVerifier: JwtVerifier | undefined;
      const byKid = new Map<string, JwtVerifier>();
      if (keyType === 'pem') {
        const key = keyFrom(material);
        if (!key || key.asymmetricKeyType !== 'rsa')
          throw new PluginConfigError('extauth', 'public_keys', 'an RSA PEM key');
        pemVerifier = new JwtVerifier(single(key), policy);
      } else
        for (const [kid, key] of keysByKid(material)) byKid.set(kid, new JwtVerifier(single(key), policy));

      return {
        onRequest(ctx) {
          const h = ctx.req.headers;
          const m = typeof h.authorization === 'string' ? BEARER.exec(h.authorization) : null;
          // What a later plugin reads as the caller's key comes only from a verified token.
          const deny = (code: Parameters<typeof authError>[1], text: string): void => {
            delete h.authorization;
            delete h['x-api-key'];
            if (sendErr) authError(ctx, code, text);
          };
          if (!m) return deny('missing_authorization', 'missing_authorization');
          const token = m[1]!;
          let verifier = pemVerifier;
          if (!verifier) {
            let kid: unknown;
            try {
              kid = decodeJwt(token).header.kid;
            } catch {
              return deny('missing_authorization', 'missing_authorization');
            }
            if (typeof kid !== 'string') return deny('invalid_token', 'invalid_token');
            verifier = byKid.get(kid);
            if (!verifier) return deny('invalid_authorization', 'invalid_authorization');
          }
          let claims;
          try {
            claims = verifier.verify(token);
          } catch (err) {
            if (!(err instanceof JwtError)) throw err;
            return pemVerifier
              ? deny('invalid_token', 'invalid_token')
              : deny('access_denied', 'JWT is invalid');
          }
          if (!keep) delete h.authorization;
          const id = claims[claim];
          if (typeof id === 'string') h['x-api-key'] = id;
          else delete h['x-api-key'];
        },
      };
    },
  });
}
