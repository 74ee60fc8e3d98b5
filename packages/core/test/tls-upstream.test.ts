// Southbound TLS with undici Pool + our connect options against real https upstreams on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { Pool } from 'undici';
import type { UpstreamTlsConfig } from '../src/config/types.js';
import {
  buildUpstreamConnectOptions,
  createCertificateAuthority,
  createUpstreamConnector,
  describeTlsError,
  issueCertificate,
  tlsErrorCode,
} from '../src/tls/index.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());
// A parent-layer style certificate: its only name is a module id, not the address dialled.
const moduleCert = pki.issue('module', { commonName: 'module-id', dnsNames: ['module-id'] });
const selfSignedCa = createCertificateAuthority({ commonName: 'self' });
const selfSigned = issueCertificate(selfSignedCa, {
  commonName: 'localhost',
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
});

interface Upstream {
  url: URL;
  seen: Array<{ sni: string | false; clientCn?: string }>;
  close(): void;
}

async function upstream(opts: tls.TlsOptions): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = https.createServer(opts, (req, res) => {
    const s = req.socket as tls.TLSSocket;
    const peer = s.getPeerCertificate();
    seen.push({
      sni: (s as unknown as { servername: string | false }).servername,
      clientCn: peer?.subject?.CN as string | undefined,
    });
    res.end('upstream');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`),
    seen,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function call(url: URL, cfg: UpstreamTlsConfig | undefined, useConnector = false): Promise<string> {
  const pool = new Pool(url.origin, {
    connect: useConnector ? createUpstreamConnector(cfg, url) : buildUpstreamConnectOptions(cfg, url),
  });
  try {
    const res = await pool.request({ path: '/', method: 'GET' });
    return await res.body.text();
  } finally {
    await pool.close();
  }
}

async function failure(url: URL, cfg: UpstreamTlsConfig | undefined): Promise<string> {
  try {
    await call(url, cfg);
  } catch (err) {
    assert.notEqual(tlsErrorCode(err), undefined, `a TLS error: ${String(err)}`);
    return describeTlsError(err);
  }
  assert.fail('request should have failed');
}

test('self-signed upstream is refused unless its CA is trusted or verify is off', async () => {
  const u = await upstream({ cert: selfSigned.certPem, key: selfSigned.keyPem });
  try {
    assert.equal(await failure(u.url, undefined), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(await call(u.url, { ca: selfSignedCa.certPem }), 'upstream');
    assert.equal(await call(u.url, { verify: false }), 'upstream');
    // A configured CA replaces the trust store (nginx proxy_ssl_trusted_certificate): another CA fails.
    assert.equal(await failure(u.url, { ca: pki.ca.certPem }), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  } finally {
    u.close();
  }
  const leafOnly = createCertificateAuthority({ commonName: 'localhost' });
  const v = await upstream({ cert: leafOnly.certPem, key: leafOnly.keyPem });
  try {
    assert.equal(await failure(v.url, undefined), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  } finally {
    v.close();
  }
});

test('verify-name override (proxy_ssl_name): SNI and verification use the name, not the address', async () => {
  const u = await upstream({ cert: moduleCert.chainPem, key: moduleCert.keyPem });
  try {
    // Dialled by IP: the certificate does not name 127.0.0.1.
    assert.equal(await failure(u.url, { caFile: pki.caFile }), 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(await call(u.url, { caFile: pki.caFile, name: 'module-id' }), 'upstream');
    assert.equal(u.seen.at(-1)?.sni, 'module-id');
    assert.equal(
      await failure(u.url, { caFile: pki.caFile, name: 'other-id' }),
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    // serverName false: verified against the name, but no SNI sent.
    assert.equal(
      await call(u.url, { caFile: pki.caFile, name: 'module-id', serverName: false }, true),
      'upstream',
    );
    assert.equal(u.seen.at(-1)?.sni, false);
  } finally {
    u.close();
  }
});

test('mTLS to an upstream that requires a client certificate', async () => {
  const u = await upstream({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  try {
    const cfg: UpstreamTlsConfig = {
      caFile: pki.caFile,
      certFile: pki.client.certFile,
      keyFile: pki.client.keyFile,
    };
    assert.equal(await call(u.url, cfg), 'upstream');
    assert.equal(u.seen.at(-1)?.clientCn, 'test-client');
    // TLS 1.3: the client finishes its handshake before the server refuses it, so the failure is a reset.
    await assert.rejects(call(u.url, { caFile: pki.caFile }));
  } finally {
    u.close();
  }
  const v = await upstream({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion: 'TLSv1.2',
  });
  try {
    // TLS 1.2: the refusal is a handshake alert, named in the error.
    const code = await failure(v.url, { caFile: pki.caFile });
    assert.match(code, /^ERR_SSL_/, code);
  } finally {
    v.close();
  }
});

test('options: no SNI for IP literals, SNI = host for names; NODE_EXTRA_CA_CERTS path keeps Node defaults', () => {
  const byIp = buildUpstreamConnectOptions(undefined, new URL('https://127.0.0.1:1'));
  assert.equal(byIp.servername, undefined);
  assert.equal(byIp.ca, undefined, 'no ca → Node default roots (incl. NODE_EXTRA_CA_CERTS)');
  assert.equal(byIp.rejectUnauthorized, true);
  assert.equal(buildUpstreamConnectOptions(undefined, new URL('https://[::1]:1')).servername, undefined);
  assert.equal(
    buildUpstreamConnectOptions(undefined, new URL('https://Example.com')).servername,
    'example.com',
  );
  assert.equal(
    buildUpstreamConnectOptions({ name: 'x.internal' }, new URL('https://10.0.0.1')).servername,
    'x.internal',
  );
  assert.equal(describeTlsError(new Error('x')), 'TLS_ERROR');
  assert.equal(tlsErrorCode(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), undefined);
  assert.equal(
    tlsErrorCode(
      Object.assign(new Error('wrapped'), {
        cause: Object.assign(new Error('e'), { code: 'CERT_HAS_EXPIRED' }),
      }),
    ),
    'CERT_HAS_EXPIRED',
  );
});

test('expired upstream certificate → CERT_HAS_EXPIRED', async () => {
  const old = issueCertificate(pki.ca, {
    commonName: 'localhost',
    ipAddresses: ['127.0.0.1'],
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const u = await upstream({ cert: old.certPem, key: old.keyPem });
  try {
    assert.equal(await failure(u.url, { ca: pki.ca.certPem }), 'CERT_HAS_EXPIRED');
  } finally {
    u.close();
  }
});
