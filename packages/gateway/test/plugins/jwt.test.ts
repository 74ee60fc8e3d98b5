// RS256 verification: keys from a PEM public key, a certificate, or a JWKS by kid; alg, aud, iss,
// exp/nbf with grace; malformed tokens; a repeated token verified once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeySet } from '../../src/plugins/jwt/keys.js';
import { JwtError, JwtVerifier, type JwtPolicy } from '../../src/plugins/jwt/verify.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';

const keys = makeKeys();
const other = makeKeys();
const policy: JwtPolicy = { gracePeriodSec: 0, audience: 'microgateway', cacheSize: 100 };

function refused(v: JwtVerifier, token: string, failure = 'invalid', now?: number): void {
  assert.throws(
    () => v.verify(token, now),
    (err: unknown) => err instanceof JwtError && err.failure === failure,
  );
}

test('a valid RS256 token verifies with the PEM public key', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  const claims = v.verify(signJwt(keys, claimsFor(['P'])));
  assert.deepEqual(claims.api_product_list, ['P']);
});

test('jwt_public_key as an X.509 certificate (what edgemicro configure stores)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-jwt-'));
  try {
    writeFileSync(join(dir, 'key.pem'), keys.privatePem);
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-key',
          join(dir, 'key.pem'),
          '-subj',
          '/CN=microgateway',
          '-days',
          '1',
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
    } catch {
      return t.skip('openssl not installed');
    }
    const v = new JwtVerifier(
      buildKeySet({ publicKeyPem: readFileSync(join(dir, 'cert.pem'), 'utf8') }),
      policy,
    );
    assert.ok(v.verify(signJwt(keys, claimsFor(['P']))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JWKS: the key is chosen by kid; an unknown kid does not verify', () => {
  const v = new JwtVerifier(
    buildKeySet({
      jwks: [
        { ...other.jwk, kid: 'old' },
        { ...keys.jwk, kid: 'new', alg: 'RS256', use: 'sig' },
      ],
    }),
    policy,
  );
  assert.ok(v.verify(signJwt(keys, claimsFor(['P']), { kid: 'new' })));
  refused(v, signJwt(keys, claimsFor(['P']), { kid: 'old' }));
  refused(v, signJwt(keys, claimsFor(['P']), { kid: 'missing' }));
});

test('alg none and HS256 keyed with the public key are refused', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  refused(v, signJwt(keys, claimsFor(['P']), { alg: 'none' }));
  refused(v, signJwt(keys, claimsFor(['P']), { alg: 'HS256' }));
});

test('a token signed by another key is refused', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  refused(v, signJwt(other, claimsFor(['P'])));
});

test('aud must be microgateway; iss must match when configured', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), {
    ...policy,
    issuer: 'https://issuer',
  });
  refused(v, signJwt(keys, claimsFor(['P'], { aud: 'other', iss: 'https://issuer' })));
  refused(v, signJwt(keys, claimsFor(['P'], { aud: undefined, iss: 'https://issuer' })));
  refused(v, signJwt(keys, claimsFor(['P'], { iss: 'https://evil' })));
  assert.ok(v.verify(signJwt(keys, claimsFor(['P'], { iss: 'https://issuer' }))));
  assert.ok(v.verify(signJwt(keys, claimsFor(['P'], { aud: ['x', 'microgateway'], iss: 'https://issuer' }))));
});

test('exp and nbf honour the grace period; a token without exp is refused', () => {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  const strict = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  const lenient = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), {
    ...policy,
    gracePeriodSec: 10,
  });
  const expired = signJwt(keys, claimsFor(['P'], { exp: s - 5 }));
  refused(strict, expired, 'invalid', now);
  assert.ok(lenient.verify(expired, now));
  refused(lenient, signJwt(keys, claimsFor(['P'], { exp: s - 20 })), 'invalid', now);
  const early = signJwt(keys, claimsFor(['P'], { nbf: s + 5 }));
  refused(strict, early, 'invalid', now);
  assert.ok(lenient.verify(early, now));
  refused(strict, signJwt(keys, claimsFor(['P'], { exp: undefined })));
  // A cached token is still judged against the clock.
  const shortLived = signJwt(keys, claimsFor(['P'], { exp: s + 2 }));
  assert.ok(strict.verify(shortLived, now));
  refused(strict, shortLived, 'invalid', now + 5000);
});

test('malformed tokens are unparseable, not crashes', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  for (const t of [
    '',
    'a',
    'a.b',
    'a.b.c.d',
    '!!.e30.x',
    'e30.!!.x',
    'bnVsbA.e30.x',
    'e30.WzFd.x',
    'x'.repeat(20000),
  ])
    refused(v, t, 'unparseable');
});

test('a repeated token costs no RSA work (the verified signature is cached)', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), policy);
  const token = signJwt(keys, claimsFor(['P']));
  let rsa = 0;
  const inner = v as unknown as { verifySignature(t: string): unknown };
  const original = inner.verifySignature.bind(v);
  inner.verifySignature = (t: string) => {
    rsa++;
    return original(t);
  };
  for (let i = 0; i < 100; i++) v.verify(token);
  assert.equal(rsa, 1);
});

test('the cache is bounded', () => {
  const v = new JwtVerifier(buildKeySet({ publicKeyPem: keys.publicPem }), { ...policy, cacheSize: 3 });
  for (let i = 0; i < 10; i++) v.verify(signJwt(keys, claimsFor(['P'], { n: i })));
  assert.equal((v as unknown as { cache: Map<string, unknown> }).cache.size, 3);
});
