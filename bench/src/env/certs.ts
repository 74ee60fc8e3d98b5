// Certificates made with the openssl CLI into the run's temp dir: self-signed server certificates for
// 127.0.0.1, and a small CA with leaf certificates for scenarios whose proxies verify each other.
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

function makeKey(keyFile: string, kind: KeyKind): void {
  const keyArgs =
    kind === 'rsa'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile];
  execFileSync('openssl', keyArgs, { stdio: 'ignore' });
}

/** A new key and a self-signed certificate for it, valid two days, with these `-addext` extensions. */
function selfSigned(
  keyFile: string,
  certFile: string,
  kind: KeyKind,
  subject: string,
  extensions: string[],
): void {
  makeKey(keyFile, kind);
  const args = ['req', '-x509', '-new', '-key', keyFile, '-out', certFile, '-days', '2', '-subj', subject];
  for (const e of extensions) args.push('-addext', e);
  execFileSync('openssl', args, { stdio: 'ignore' });
}

export function makeCert(dir: string, kind: KeyKind): CertPair {
  const keyFile = join(dir, `${kind}.key`);
  const certFile = join(dir, `${kind}.crt`);
  const bundleFile = join(dir, `${kind}.pem`);
  selfSigned(keyFile, certFile, kind, '/CN=127.0.0.1', ['subjectAltName=IP:127.0.0.1,DNS:localhost']);
  writeFileSync(bundleFile, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
  return { kind, certFile, keyFile, bundleFile };
}

export interface CertAuthority {
  kind: KeyKind;
  certFile: string;
  keyFile: string;
}

/** A self-signed CA (`CA:TRUE`, may sign certificates), valid two days. */
export function makeCa(dir: string, name: string, kind: KeyKind): CertAuthority {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  selfSigned(keyFile, certFile, kind, `/CN=${name}`, [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { kind, certFile, keyFile };
}

/**
 * A server certificate signed by `ca`, with these subject alternative names (`DNS:name` or `IP:addr`,
 * the first DNS name is also the CN).
 */
export function issueCert(
  dir: string,
  name: string,
  ca: CertAuthority,
  kind: KeyKind,
  sans: string[],
): CertPair {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const bundleFile = join(dir, `${name}.pem`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  makeKey(keyFile, kind);
  const cn = sans.find((s) => s.startsWith('DNS:'))?.slice(4) ?? name;
  execFileSync('openssl', ['req', '-new', '-key', keyFile, '-out', csrFile, '-subj', `/CN=${cn}`], {
    stdio: 'ignore',
  });
  writeFileSync(
    extFile,
    `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans.join(',')}\n`,
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csrFile,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      '2',
      '-extfile',
      extFile,
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(bundleFile, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
  return { kind, certFile, keyFile, bundleFile };
}
