// `gatehouse cert ca|server|client`: development certificates made with the built-in PKI.
// Prints the files it writes, never their contents.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCertificateAuthority, issueCertificate } from '../tls/pki.js';

const USAGE = `usage:
  gatehouse cert ca     --out DIR [--cn NAME] [--days N]
  gatehouse cert server --ca DIR --out DIR [--cn NAME] [--dns a,b] [--ip 127.0.0.1,::1] [--days N] [--name FILE]
  gatehouse cert client --ca DIR --out DIR [--cn NAME] [--days N] [--name FILE]
Files: DIR/ca.crt + DIR/ca.key; DIR/<name>.crt (leaf), DIR/<name>-chain.crt (leaf + CA), DIR/<name>.key.`;

export interface CertCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

async function writeKey(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
}

/** Runs `gatehouse cert …` (argv without `gatehouse cert`); resolves to the exit code. */
export async function runCertCommand(
  argv: string[],
  io: CertCommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'ca' && kind !== 'server' && kind !== 'client') {
    io.err(USAGE);
    return kind === undefined || kind === '--help' || kind === '-h' ? 0 : 2;
  }
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        out: { type: 'string' },
        ca: { type: 'string' },
        cn: { type: 'string' },
        dns: { type: 'string' },
        ip: { type: 'string' },
        days: { type: 'string' },
        name: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.out) {
    io.err(`--out DIR is required\n${USAGE}`);
    return 2;
  }
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    io.err('--days must be a positive integer');
    return 2;
  }
  const outDir = resolve(values.out);
  try {
    await mkdir(outDir, { recursive: true });
    const written: string[] = [];
    if (kind === 'ca') {
      const ca = createCertificateAuthority({
        commonName: values.cn ?? 'Gatehouse Development CA',
        validityDays: days,
      });
      await writeFile(join(outDir, 'ca.crt'), ca.certPem);
      await writeKey(join(outDir, 'ca.key'), ca.keyPem);
      written.push(join(outDir, 'ca.crt'), join(outDir, 'ca.key'));
    } else {
      if (!values.ca) {
        io.err(`--ca DIR is required\n${USAGE}`);
        return 2;
      }
      const caDir = resolve(values.ca);
      const ca = {
        certPem: await readFile(join(caDir, 'ca.crt'), 'utf8'),
        keyPem: await readFile(join(caDir, 'ca.key'), 'utf8'),
      };
      const dnsNames = list(values.dns);
      const ipAddresses = list(values.ip);
      const commonName = values.cn ?? dnsNames[0] ?? (kind === 'server' ? 'localhost' : 'gatehouse-client');
      const issued = issueCertificate(ca, {
        commonName,
        dnsNames:
          kind === 'server' && dnsNames.length === 0 && ipAddresses.length === 0 ? ['localhost'] : dnsNames,
        ipAddresses:
          kind === 'server' && dnsNames.length === 0 && ipAddresses.length === 0
            ? ['127.0.0.1']
            : ipAddresses,
        client: kind === 'client',
        server: kind === 'server',
        validityDays: days,
      });
      const base = values.name ?? kind;
      await writeFile(join(outDir, `${base}.crt`), issued.certPem);
      await writeFile(join(outDir, `${base}-chain.crt`), issued.chainPem);
      await writeKey(join(outDir, `${base}.key`), issued.keyPem);
      written.push(
        join(outDir, `${base}.crt`),
        join(outDir, `${base}-chain.crt`),
        join(outDir, `${base}.key`),
      );
      io.out(`serial ${issued.serialHex.toUpperCase()}`);
    }
    for (const f of written) io.out(`wrote ${f}`);
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.err(`cert ${kind}: ${e.code === 'ENOENT' ? `not found: ${e.path}` : e.message}`);
    return 1;
  }
}
