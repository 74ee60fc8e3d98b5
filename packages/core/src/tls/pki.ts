// A small development PKI: a CA and the server/client certificates it signs, built with node-forge.
// Used by the `gatehouse cert` command, the demo and the tests so that no private key is ever checked in.
// Keys are RSA (forge has no ECDSA); key pairs come from node:crypto because it is native and fast.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type Forge from 'node-forge';
import { lazyBuiltin } from '../util/lazy-builtin.js';

// The certificate store imports this file (splitPemCertificates): the builtins only certificate
// making needs are loaded by the first use (util/lazy-builtin.ts), as forge is below.
const childProcess = lazyBuiltin('node:child_process');
const crypto = lazyBuiltin('node:crypto');
const os = lazyBuiltin('node:os');

// node-forge (about 40 modules) is loaded on first use, not at import: the certificate store imports
// this file for splitPemCertificates, so a proxy that never makes a certificate never pays for forge.
let forgeModule: typeof Forge | undefined;
function loadForge(): typeof Forge {
  return (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge);
}

/** A certificate and its key, PEM encoded. */
export interface IssuedCertificate {
  certPem: string;
  /** Unencrypted PKCS#8 private key. */
  keyPem: string;
  /** Lower-case hex, as `X509Certificate.serialNumber` shows it (upper-cased there). */
  serialHex: string;
  /** The certificate followed by its issuer (for a CA: the certificate alone). */
  chainPem: string;
}

/** A CA is an issued certificate that may sign others. */
export type CertificateAuthority = IssuedCertificate;

export interface CertificateAuthorityOptions {
  commonName: string;
  validityDays?: number;
  keyBits?: number;
}

export interface IssueOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** extendedKeyUsage clientAuth. Default false. */
  client?: boolean;
  /** extendedKeyUsage serverAuth. Default true unless `client` is set. */
  server?: boolean;
  validityDays?: number;
  /** Explicit validity window (tests of expired and not-yet-valid certificates). */
  notBefore?: Date;
  notAfter?: Date;
  keyBits?: number;
}

const DAY_MS = 86_400_000;
// Backdate by a minute so that a certificate used at once on a machine with a slightly late clock is valid.
const BACKDATE_MS = 60_000;

function newKeyPair(bits: number): {
  privateKey: Forge.pki.rsa.PrivateKey;
  publicKey: Forge.pki.rsa.PublicKey;
  keyPem: string;
} {
  const forge = loadForge();
  const { privateKey } = crypto().generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as Forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  return { privateKey: forgeKey, publicKey, keyPem: privateKey };
}

/** A random positive serial of 16 bytes (RFC 5280 allows up to 20). */
function newSerialHex(): string {
  const bytes = crypto().randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10; // positive, and no leading zero byte that would be stripped
  return bytes.toString('hex');
}

function validity(opts: { validityDays?: number; notBefore?: Date; notAfter?: Date }, defaultDays: number) {
  const notBefore = opts.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const notAfter =
    opts.notAfter ?? new Date(notBefore.getTime() + (opts.validityDays ?? defaultDays) * DAY_MS);
  return { notBefore, notAfter };
}

function subject(commonName: string): Forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Gatehouse development' },
  ];
}

export function createCertificateAuthority(opts: CertificateAuthorityOptions): CertificateAuthority {
  const forge = loadForge();
  const { privateKey, publicKey, keyPem } = newKeyPair(opts.keyBits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = newSerialHex();
  const { notBefore, notAfter } = validity(opts, 3650);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject(opts.commonName));
  cert.setIssuer(subject(opts.commonName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem, serialHex: cert.serialNumber, chainPem: certPem };
}

export function issueCertificate(
  ca: Pick<CertificateAuthority, 'certPem' | 'keyPem'>,
  opts: IssueOptions,
): IssuedCertificate {
  const forge = loadForge();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { publicKey, keyPem } = newKeyPair(opts.keyBits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = newSerialHex();
  const { notBefore, notAfter } = validity(opts, 825);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject(opts.commonName));
  cert.setIssuer(caCert.subject.attributes);

  const client = opts.client ?? false;
  const server = opts.server ?? !client;
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [];
  for (const dns of opts.dnsNames ?? []) altNames.push({ type: 2, value: dns });
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
    altNames.push({ type: 7, ip });
  }
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: server, clientAuth: client },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(caKey as Forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem, serialHex: cert.serialNumber, chainPem: certPem + ca.certPem };
}

/** The key as an encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`, AES-256), readable by Node and OpenSSL. */
export function encryptPrivateKey(keyPem: string, passphrase: string): string {
  const forge = loadForge();
  const key = forge.pki.privateKeyFromPem(keyPem);
  return forge.pki.encryptRsaPrivateKey(key, passphrase, { algorithm: 'aes256' });
}

/** A PKCS#12 (PFX) bundle of the key, the certificate and its chain, as DER bytes. */
export function toPkcs12(issued: Pick<IssuedCertificate, 'keyPem' | 'chainPem'>, passphrase: string): Buffer {
  const forge = loadForge();
  const key = forge.pki.privateKeyFromPem(issued.keyPem);
  const certs = splitPemCertificates(issued.chainPem).map((pem) => forge.pki.certificateFromPem(pem));
  // 3DES + SHA-1 MAC: readable by OpenSSL 3 without the legacy provider.
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** Every `CERTIFICATE` block of a PEM bundle, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** True when an `openssl` binary can be run. */
export function opensslAvailable(): boolean {
  try {
    childProcess().execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * An ECDSA P-256 certificate signed by `ca`, made with the `openssl` CLI (forge cannot make EC keys).
 * For benchmarks only; throws when openssl is missing.
 */
export function issueEcdsaCertificateWithOpenssl(
  ca: Pick<CertificateAuthority, 'certPem' | 'keyPem'>,
  opts: Pick<IssueOptions, 'commonName' | 'dnsNames' | 'ipAddresses' | 'validityDays' | 'client'>,
): IssuedCertificate {
  const dir = mkdtempSync(join(os().tmpdir(), 'gatehouse-ec-'));
  try {
    const p = (name: string) => join(dir, name);
    writeFileSync(p('ca.crt'), ca.certPem);
    writeFileSync(p('ca.key'), ca.keyPem, { mode: 0o600 });
    const sans = [
      ...(opts.dnsNames ?? []).map((d) => `DNS:${d}`),
      ...(opts.ipAddresses ?? []).map((i) => `IP:${i}`),
    ];
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`,
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n');
    writeFileSync(p('ext.cnf'), ext + '\n');
    const run = (args: string[]) =>
      childProcess().execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('leaf.key')]);
    run(['req', '-new', '-key', p('leaf.key'), '-subj', `/CN=${opts.commonName}`, '-out', p('leaf.csr')]);
    const serialHex = newSerialHex();
    run([
      'x509',
      '-req',
      '-in',
      p('leaf.csr'),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-set_serial',
      `0x${serialHex}`,
      '-days',
      String(opts.validityDays ?? 825),
      '-sha256',
      '-extfile',
      p('ext.cnf'),
      '-out',
      p('leaf.crt'),
    ]);
    const certPem = readFileSync(p('leaf.crt'), 'utf8');
    const keyPem = readFileSync(p('leaf.key'), 'utf8');
    return { certPem, keyPem, serialHex, chainPem: certPem + ca.certPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
