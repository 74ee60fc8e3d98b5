// Self-signed server certificates for 127.0.0.1, made with the openssl CLI into the run's temp dir.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KeyKind = 'rsa' | 'ecdsa';

export interface CertPair {
  kind: KeyKind;
  certFile: string;
  keyFile: string;
  /** cert followed by key, the form haproxy's `crt` wants. */
  bundleFile: string;
}

export function makeCert(dir: string, kind: KeyKind): CertPair {
  const keyFile = join(dir, `${kind}.key`);
  const certFile = join(dir, `${kind}.crt`);
  const bundleFile = join(dir, `${kind}.pem`);
  const keyArgs =
    kind === 'rsa'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile];
  execFileSync('openssl', keyArgs, { stdio: 'ignore' });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(bundleFile, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
  return { kind, certFile, keyFile, bundleFile };
}
