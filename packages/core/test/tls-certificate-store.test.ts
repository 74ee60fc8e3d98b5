import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  CertificateStore,
  encryptPrivateKey,
  issueCertificate,
  registerTlsMetrics,
  toPkcs12,
  type CertificateRejectedEvent,
  type CertificateUpdatedEvent,
} from '../src/tls/index.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());

/** The next `event` of `store`; a ref'd timer keeps the loop alive (the store's watchers do not). */
function nextEvent<E extends 'updated' | 'rejected'>(store: CertificateStore, event: E, timeoutMs = 5000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
  return once(store, event, { signal: ac.signal })
    .then(([e]) => e as E extends 'updated' ? CertificateUpdatedEvent : CertificateRejectedEvent)
    .finally(() => clearTimeout(timer));
}

test('loads PEM files, memory PEM, encrypted keys and PFX; reports subject, SANs, serial, expiry', async () => {
  const store = new CertificateStore();
  const a = await store.load('files', { certFile: pki.server.chainFile, keyFile: pki.server.keyFile });
  assert.equal(a.subject, 'localhost');
  assert.equal(a.issuer, 'Gatehouse Test CA');
  assert.deepEqual(a.dnsNames, ['localhost']);
  assert.equal(a.ipAddresses[0], '127.0.0.1');
  assert.equal(a.serialNumber, pki.server.serialHex.toUpperCase());
  assert.equal(a.origin, 'files');
  assert.ok(a.notAfter.getTime() > Date.now());
  assert.ok(store.get('files')?.secureContext);

  const b = await store.load('mem', {
    cert: pki.server.certPem,
    key: encryptPrivateKey(pki.server.keyPem, 'pw'),
    passphrase: 'pw',
  });
  assert.equal(b.origin, 'memory');

  const pfxFile = join(pki.dir, 'server.pfx');
  writeFileSync(pfxFile, toPkcs12(pki.server, 'pfxpw'));
  const c = await store.load('pfx', { pfxFile, passphrase: 'pfxpw' });
  assert.equal(c.origin, 'pfx');
  assert.equal(c.serialNumber, a.serialNumber);
  assert.deepEqual(store.names().sort(), ['files', 'mem', 'pfx']);
  store.close();
});

/** The PEM with a line in the middle of the base64 body removed. */
function corrupt(pem: string): string {
  const lines = pem.split('\n');
  lines.splice(Math.floor(lines.length / 2), 1);
  return lines.join('\n');
}

test('refuses mismatched, expired, not-yet-valid, corrupt, wrong-passphrase and missing pairs', async () => {
  const store = new CertificateStore();
  const rejected: string[] = [];
  store.on('rejected', (e) => rejected.push(e.error.code));
  const expired = issueCertificate(pki.ca, {
    commonName: 'old',
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const future = issueCertificate(pki.ca, {
    commonName: 'new',
    notBefore: new Date(Date.now() + 86_400_000),
    notAfter: new Date(Date.now() + 10 * 86_400_000),
  });
  const cases: Array<[string, Parameters<CertificateStore['load']>[1], string]> = [
    ['mismatch', { cert: pki.server.certPem, key: pki.client.keyPem }, 'key_mismatch'],
    ['expired', { cert: expired.certPem, key: expired.keyPem }, 'certificate_expired'],
    ['future', { cert: future.certPem, key: future.keyPem }, 'certificate_not_yet_valid'],
    ['corrupt', { cert: corrupt(pki.server.certPem), key: pki.server.keyPem }, 'certificate_invalid'],
    ['not-pem', { cert: 'hello', key: pki.server.keyPem }, 'certificate_invalid'],
    ['bad-key', { cert: pki.server.certPem, key: 'nope' }, 'key_invalid'],
    [
      'passphrase',
      { cert: pki.server.certPem, key: encryptPrivateKey(pki.server.keyPem, 'pw'), passphrase: 'Tr0ub4dor' },
      'key_invalid',
    ],
    [
      'missing',
      { certFile: join(pki.dir, 'absent.crt'), keyFile: pki.server.keyFile },
      'certificate_unreadable',
    ],
    ['empty', {}, 'source_invalid'],
  ];
  for (const [name, source, code] of cases) {
    await assert.rejects(store.load(name, source), `${name} must be refused`);
    await assert.rejects(store.load(name, source), (err: { code?: string; message: string }) => {
      assert.equal(err.code, code, name);
      assert.doesNotMatch(
        err.message,
        /PRIVATE KEY|BEGIN|Tr0ub4dor/,
        'no key material or passphrase in messages',
      );
      return true;
    });
  }
  assert.deepEqual(
    rejected,
    cases.flatMap((c) => [c[2], c[2]]),
    'one rejected event per refused load',
  );
  assert.deepEqual(store.names(), [], 'nothing installed');
  store.close();
});

test('update() keeps the old pair when the new one is bad and counts reloads in metrics', async () => {
  const registry = new Registry();
  const store = new CertificateStore();
  await store.load('site', { cert: pki.server.certPem, key: pki.server.keyPem });
  registerTlsMetrics(registry).track(store);
  assert.equal(registerTlsMetrics(registry), registerTlsMetrics(registry), 'idempotent per registry');

  const bad = await store.update('site', { cert: pki.server.certPem, key: pki.client.keyPem });
  assert.equal(bad.ok, false);
  assert.equal(store.get('site')?.info.serialNumber, pki.server.serialHex.toUpperCase());

  const next = issueCertificate(pki.ca, { commonName: 'localhost', dnsNames: ['localhost'] });
  const good = await store.update('site', { cert: next.certPem, key: next.keyPem });
  assert.equal(good.ok, true);
  assert.equal(store.get('site')?.info.serialNumber, next.serialHex.toUpperCase());

  const text = await registry.metrics();
  assert.match(text, /gatehouse_certificate_reloads_total\{name="site",result="success"\} 1/);
  assert.match(text, /gatehouse_certificate_reloads_total\{name="site",result="failure"\} 1/);
  const m =
    /gatehouse_certificate_expiry_seconds\{name="site",subject="localhost",sans="localhost"\} (\d+(\.\d+)?)/.exec(
      text,
    );
  assert.ok(m, text);
  const expected = (new Date(store.get('site')!.info.notAfter).getTime() - Date.now()) / 1000;
  assert.ok(Math.abs(Number(m[1]) - expected) < 60);
  store.close();
});

function freshDir(name: string): string {
  const dir = join(pki.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('watch: atomic rename replacement is picked up', async () => {
  const dir = freshDir('rename');
  writeFileSync(join(dir, 'tls.crt'), pki.server.certPem);
  writeFileSync(join(dir, 'tls.key'), pki.server.keyPem);
  const store = new CertificateStore({ pollIntervalMs: 0 });
  await store.load('s', { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  store.watch();
  try {
    const next = issueCertificate(pki.ca, { commonName: 'localhost', dnsNames: ['localhost'] });
    const updated = nextEvent(store, 'updated');
    writeFileSync(join(dir, '.tls.crt.tmp'), next.certPem);
    writeFileSync(join(dir, '.tls.key.tmp'), next.keyPem);
    renameSync(join(dir, '.tls.crt.tmp'), join(dir, 'tls.crt'));
    renameSync(join(dir, '.tls.key.tmp'), join(dir, 'tls.key'));
    const e = await updated;
    assert.equal(e.info.serialNumber, next.serialHex.toUpperCase());
    assert.equal(e.previous?.serialNumber, pki.server.serialHex.toUpperCase());
    assert.equal(e.initial, false);
  } finally {
    store.close();
  }
});

test('watch: Kubernetes ..data symlink swap is picked up', async () => {
  const dir = freshDir('k8s');
  const v1 = join(dir, '..2024_01');
  mkdirSync(v1);
  writeFileSync(join(v1, 'tls.crt'), pki.server.certPem);
  writeFileSync(join(v1, 'tls.key'), pki.server.keyPem);
  symlinkSync('..2024_01', join(dir, '..data'));
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));
  const store = new CertificateStore({ pollIntervalMs: 0 });
  await store.load('s', { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  store.watch();
  try {
    const next = issueCertificate(pki.ca, { commonName: 'localhost', dnsNames: ['localhost'] });
    const v2 = join(dir, '..2024_02');
    mkdirSync(v2);
    writeFileSync(join(v2, 'tls.crt'), next.certPem);
    writeFileSync(join(v2, 'tls.key'), next.keyPem);
    const updated = nextEvent(store, 'updated');
    symlinkSync('..2024_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    const e = await updated;
    assert.equal(e.info.serialNumber, next.serialHex.toUpperCase());
  } finally {
    store.close();
  }
});

test('watch: in-place write; a bad pair is refused once and the old one stays; the fix is taken', async () => {
  const dir = freshDir('inplace');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  writeFileSync(certFile, pki.server.certPem);
  writeFileSync(keyFile, pki.server.keyPem);
  const store = new CertificateStore({ pollIntervalMs: 200 });
  await store.load('s', { certFile, keyFile });
  store.watch();
  try {
    const next = issueCertificate(pki.ca, { commonName: 'localhost', dnsNames: ['localhost'] });
    // cert of `next` with the old key: mismatched
    const rejected = nextEvent(store, 'rejected');
    writeFileSync(certFile, next.certPem);
    const r = await rejected;
    assert.equal(r.error.code, 'key_mismatch');
    assert.equal(store.get('s')?.info.serialNumber, pki.server.serialHex.toUpperCase());

    // The same bad content is not reported again by the poll.
    let again = 0;
    store.on('rejected', () => again++);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(again, 0);

    const updated = nextEvent(store, 'updated');
    writeFileSync(keyFile, next.keyPem);
    const e = await updated;
    assert.equal(e.info.serialNumber, next.serialHex.toUpperCase());
  } finally {
    store.close();
  }
});
