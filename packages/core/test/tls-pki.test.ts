import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  createCertificateAuthority,
  encryptPrivateKey,
  issueCertificate,
  issueEcdsaCertificateWithOpenssl,
  opensslAvailable,
  splitPemCertificates,
  toPkcs12,
} from '../src/tls/index.js';
import { runCertCommand } from '../src/cli/cert-command.js';

const ca = createCertificateAuthority({ commonName: 'PKI Test CA' });

test('CA is self-signed, a CA, and signs a server certificate with DNS and IP SANs', () => {
  const caX = new X509Certificate(ca.certPem);
  assert.equal(caX.ca, true);
  assert.ok(caX.verify(caX.publicKey));
  const leaf = issueCertificate(ca, {
    commonName: 'svc',
    dnsNames: ['svc.local', '*.svc.local'],
    ipAddresses: ['127.0.0.1'],
  });
  const x = new X509Certificate(leaf.certPem);
  assert.equal(x.ca, false);
  assert.ok(x.verify(caX.publicKey));
  assert.equal(x.checkIssued(caX), true);
  assert.match(x.subject, /CN=svc/);
  assert.equal(x.subjectAltName, 'DNS:svc.local, DNS:*.svc.local, IP Address:127.0.0.1');
  assert.equal(x.serialNumber.toLowerCase(), leaf.serialHex);
  assert.equal(x.checkHost('a.svc.local'), '*.svc.local');
  assert.equal(x.checkHost('other.local'), undefined);
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.ok(x.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.deepEqual(splitPemCertificates(leaf.chainPem).length, 2);
  assert.equal(x.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), true, 'serverAuth');
});

test('client certificates carry clientAuth; validity windows are honoured; serials are unique', () => {
  const notBefore = new Date('2020-01-01T00:00:00Z');
  const notAfter = new Date('2020-02-01T00:00:00Z');
  const c = issueCertificate(ca, { commonName: 'cli', client: true, notBefore, notAfter });
  const x = new X509Certificate(c.certPem);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.equal(new Date(x.validFrom).toISOString(), notBefore.toISOString());
  assert.equal(new Date(x.validTo).toISOString(), notAfter.toISOString());
  const other = issueCertificate(ca, { commonName: 'cli', client: true });
  assert.notEqual(other.serialHex, c.serialHex);
});

test('encrypted key and PKCS#12 load in Node only with the right passphrase', () => {
  const leaf = issueCertificate(ca, { commonName: 'p12', dnsNames: ['p12.local'] });
  const enc = encryptPrivateKey(leaf.keyPem, 's3cret');
  assert.match(enc, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.throws(() => createPrivateKey({ key: enc, passphrase: 'wrong' }));
  const key = createPrivateKey({ key: enc, passphrase: 's3cret' });
  assert.ok(new X509Certificate(leaf.certPem).checkPrivateKey(key));

  const pfx = toPkcs12(leaf, 'pfxpass');
  assert.throws(() => tls.createSecureContext({ pfx, passphrase: 'nope' }));
  assert.doesNotThrow(() => tls.createSecureContext({ pfx, passphrase: 'pfxpass' }));
});

test(
  'ECDSA certificate via the openssl CLI (bench only)',
  { skip: !opensslAvailable() && 'openssl not installed' },
  () => {
    const ec = issueEcdsaCertificateWithOpenssl(ca, { commonName: 'ec', dnsNames: ['ec.local'] });
    const x = new X509Certificate(ec.certPem);
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
    assert.equal(x.serialNumber.toLowerCase(), ec.serialHex);
    assert.ok(x.checkPrivateKey(createPrivateKey(ec.keyPem)));
  },
);

test('gatehouse cert ca/server/client write files and print names, never key contents', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-certcmd-'));
  try {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
    assert.equal(await runCertCommand(['ca', '--out', join(dir, 'ca'), '--cn', 'My Dev CA'], io), 0);
    assert.equal(
      await runCertCommand(
        [
          'server',
          '--ca',
          join(dir, 'ca'),
          '--out',
          join(dir, 'srv'),
          '--dns',
          'a.test,b.test',
          '--ip',
          '127.0.0.1',
        ],
        io,
      ),
      0,
    );
    assert.equal(
      await runCertCommand(
        ['client', '--ca', join(dir, 'ca'), '--out', join(dir, 'cli'), '--cn', 'dev1'],
        io,
      ),
      0,
    );
    const caX = new X509Certificate(readFileSync(join(dir, 'ca', 'ca.crt')));
    assert.match(caX.subject, /CN=My Dev CA/);
    const srv = new X509Certificate(readFileSync(join(dir, 'srv', 'server.crt')));
    assert.equal(srv.subjectAltName, 'DNS:a.test, DNS:b.test, IP Address:127.0.0.1');
    assert.ok(srv.verify(caX.publicKey));
    const cli = new X509Certificate(readFileSync(join(dir, 'cli', 'client.crt')));
    assert.match(cli.subject, /CN=dev1/);
    assert.equal(statSync(join(dir, 'srv', 'server.key')).mode & 0o777, 0o600);
    assert.ok(existsSync(join(dir, 'srv', 'server-chain.crt')));
    const printed = lines.join('\n');
    assert.match(printed, /wrote .*server\.key/);
    assert.doesNotMatch(printed, /PRIVATE KEY|BEGIN/);

    lines.length = 0;
    assert.equal(await runCertCommand(['server', '--out', join(dir, 'x')], io), 2, '--ca missing');
    assert.equal(await runCertCommand(['server', '--ca', join(dir, 'nope'), '--out', join(dir, 'x')], io), 1);
    assert.equal(await runCertCommand(['bogus'], io), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
