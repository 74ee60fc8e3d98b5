// Test PKI: a CA plus a server and a client certificate, written to a temp dir that `cleanup()` removes.
// Certificates are made at run time; no private key is checked in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type IssueOptions,
  type IssuedCertificate,
} from '../../packages/core/src/tls/index.js';

export interface WrittenCertificate extends IssuedCertificate {
  certFile: string;
  keyFile: string;
  /** Leaf + CA. */
  chainFile: string;
}

export interface TestPki {
  dir: string;
  ca: CertificateAuthority;
  caFile: string;
  /** CN localhost, SANs localhost + 127.0.0.1 + ::1. */
  server: WrittenCertificate;
  /** CN test-client, clientAuth. */
  client: WrittenCertificate;
  /** Issues another certificate from the same CA and writes it as `<name>.crt`/`<name>.key`. */
  issue(name: string, opts: IssueOptions): WrittenCertificate;
  cleanup(): void;
}

function writeCertificate(dir: string, name: string, issued: IssuedCertificate): WrittenCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const chainFile = join(dir, `${name}-chain.crt`);
  writeFileSync(certFile, issued.certPem);
  writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
  writeFileSync(chainFile, issued.chainPem);
  return { ...issued, certFile, keyFile, chainFile };
}

export function createTestPki(opts: { caName?: string; keyBits?: number } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'));
  const keyBits = opts.keyBits ?? 2048;
  const ca = createCertificateAuthority({ commonName: opts.caName ?? 'Gatehouse Test CA', keyBits });
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca.certPem);
  const issue = (name: string, o: IssueOptions) =>
    writeCertificate(dir, name, issueCertificate(ca, { keyBits, ...o }));
  const server = issue('server', {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const client = issue('client', { commonName: 'test-client', client: true });
  return {
    dir,
    ca,
    caFile,
    server,
    client,
    issue,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
