// Named certificate pairs (server certificates) with validation and hot reload.
// A pair is swapped only when the new one is valid; a bad one is refused and the old one keeps serving.
// Files are watched through their directory, because editors replace files by rename and Kubernetes
// swaps a `..data` symlink: neither is seen by a watch on the file itself. A slow poll backs the watch up.
// node:crypto, node:fs/promises and node:tls are loaded by the first pair (util/lazy-builtin.ts).
import { EventEmitter } from 'node:events';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type tls from 'node:tls';
import type { Logger } from '../observability/logger.js';
import type { CertificateSource } from '../config/types.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';
import { splitPemCertificates } from './pki.js';

const crypto = lazyBuiltin('node:crypto');
const fsp = lazyBuiltin('node:fs/promises');
const tlsModule = lazyBuiltin('node:tls');

export type CertificateErrorCode =
  | 'certificate_unreadable'
  | 'certificate_invalid'
  | 'key_invalid'
  | 'key_mismatch'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'source_invalid';

/** Why a pair was refused. The message never contains key material or passphrases. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface CertificateInfo {
  /** The store name of the pair. */
  name: string;
  /** Subject common name ('' when absent). */
  subject: string;
  issuer: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** Upper-case hex, as Node's `getPeerCertificate().serialNumber` shows it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  origin: 'files' | 'pfx' | 'memory';
}

/** The raw material of a pair, as tls.createSecureContext takes it (the server's default context needs it). */
export type PairMaterial =
  { cert: string; key: string; passphrase?: string } | { pfx: Buffer; passphrase?: string };

export interface CertificateEntry {
  info: CertificateInfo;
  secureContext: tls.SecureContext;
  material: PairMaterial;
  /** The leaf certificate. */
  x509: X509Certificate;
}

export interface CertificateUpdatedEvent {
  name: string;
  info: CertificateInfo;
  previous?: CertificateInfo;
  /** True for the first load of a name (not a reload). */
  initial: boolean;
}

export interface CertificateRejectedEvent {
  name: string;
  error: CertificateError;
  initial: boolean;
}

export type UpdateResult = { ok: true; info: CertificateInfo } | { ok: false; error: CertificateError };

export interface CertificateStoreOptions {
  logger?: Logger;
  /** Relative file names are resolved against it. Default process.cwd(). */
  baseDir?: string;
  /** Options shared by every secure context (versions, ciphers, client CA, session settings). */
  contextOptions?: tls.SecureContextOptions;
  /** Quiet time after a file event before files are re-read. Default 100. */
  debounceMs?: number;
  /** Poll fallback period (mtime/inode/size, then content hash). Default 5000; 0 disables. */
  pollIntervalMs?: number;
  /** A certificate whose notBefore is at most this far in the future is accepted (clock skew). Default 300000. */
  notBeforeToleranceMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface ReadResult {
  material: PairMaterial;
  origin: CertificateInfo['origin'];
  /** sha256 of the bytes read, to tell a real change from a touch. */
  hash: string;
}

interface Slot {
  source: CertificateSource;
  entry?: CertificateEntry;
  /** Hash of the file contents last examined (accepted or refused), so a refused pair is reported once. */
  seenHash?: string;
  /** stat signature of the files at the last check (poll fallback). */
  statSignature?: string;
  /** Serialises checks of one name. */
  busy?: Promise<void>;
  again?: boolean;
}

export declare interface CertificateStore {
  on(event: 'updated', listener: (e: CertificateUpdatedEvent) => void): this;
  on(event: 'rejected', listener: (e: CertificateRejectedEvent) => void): this;
  emit(event: 'updated', e: CertificateUpdatedEvent): boolean;
  emit(event: 'rejected', e: CertificateRejectedEvent): boolean;
}

export class CertificateStore extends EventEmitter {
  readonly #slots = new Map<string, Slot>();
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #debounce = new Map<string, NodeJS.Timeout>();
  #poll: NodeJS.Timeout | undefined;
  #watching = false;
  #closed = false;
  readonly #opts: Required<Omit<CertificateStoreOptions, 'logger' | 'contextOptions'>> & {
    logger?: Logger;
    contextOptions: tls.SecureContextOptions;
  };

  constructor(opts: CertificateStoreOptions = {}) {
    super();
    this.#opts = {
      logger: opts.logger,
      baseDir: opts.baseDir ?? process.cwd(),
      contextOptions: opts.contextOptions ?? {},
      debounceMs: opts.debounceMs ?? 100,
      pollIntervalMs: opts.pollIntervalMs ?? 5000,
      notBeforeToleranceMs: opts.notBeforeToleranceMs ?? 300_000,
      now: opts.now ?? Date.now,
    };
  }

  /** Loads a pair for the first time; throws CertificateError when it is not valid (startup must fail). */
  async load(name: string, source: CertificateSource): Promise<CertificateInfo> {
    const result = await this.update(name, source);
    if (!result.ok) throw result.error;
    return result.info;
  }

  /**
   * Validates `source` and, when valid, makes it the pair served under `name`. The source replaces the
   * previous one (a memory pair can replace a file pair). Never throws: a refused pair leaves the old one.
   */
  async update(name: string, source: CertificateSource): Promise<UpdateResult> {
    let slot = this.#slots.get(name);
    if (!slot) {
      slot = { source };
      this.#slots.set(name, slot);
    }
    const target = slot;
    let result: UpdateResult | undefined;
    await this.#serialise(target, async () => {
      try {
        const read = await this.#read(source);
        const entry = this.#validate(name, source, read.material, read.origin);
        target.source = source;
        target.seenHash = read.hash;
        target.statSignature = await this.#statSignature(source).catch(() => undefined);
        this.#install(name, target, entry);
        result = { ok: true, info: entry.info };
      } catch (err) {
        const error = toCertificateError(err);
        if (!target.entry) this.#slots.delete(name);
        this.#refuse(name, error, !target.entry);
        result = { ok: false, error };
      }
    });
    if (this.#watching) this.#syncWatchers();
    return result!;
  }

  get(name: string): CertificateEntry | undefined {
    return this.#slots.get(name)?.entry;
  }

  names(): string[] {
    return [...this.#slots.keys()].filter((n) => this.#slots.get(n)?.entry);
  }

  entries(): CertificateEntry[] {
    const out: CertificateEntry[] = [];
    for (const slot of this.#slots.values()) if (slot.entry) out.push(slot.entry);
    return out;
  }

  /** Starts watching the files of every file-backed pair (and of pairs added later). Idempotent. */
  watch(): void {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    this.#syncWatchers();
    if (this.#opts.pollIntervalMs > 0) {
      this.#poll = setInterval(() => void this.#pollOnce(), this.#opts.pollIntervalMs);
      this.#poll.unref();
    }
  }

  /** Re-reads the files of one name now (also what a file event leads to). Resolves when done. */
  async recheck(name: string): Promise<void> {
    const slot = this.#slots.get(name);
    if (!slot || !isFileSource(slot.source)) return;
    await this.#serialise(slot, () => this.#checkFiles(name, slot));
  }

  close(): void {
    this.#closed = true;
    this.#watching = false;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = undefined;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const t of this.#debounce.values()) clearTimeout(t);
    this.#debounce.clear();
  }

  // ---- internals ----

  async #serialise(slot: Slot, job: () => Promise<void>): Promise<void> {
    while (slot.busy) await slot.busy;
    const run = job().finally(() => {
      slot.busy = undefined;
    });
    slot.busy = run;
    await run;
  }

  #install(name: string, slot: Slot, entry: CertificateEntry): void {
    const previous = slot.entry?.info;
    slot.entry = entry;
    const { info } = entry;
    this.#opts.logger?.info(
      {
        certificate: name,
        subject: info.subject,
        serial: info.serialNumber,
        notAfter: info.notAfter.toISOString(),
      },
      previous ? 'certificate reloaded' : 'certificate loaded',
    );
    this.emit('updated', { name, info, previous, initial: previous === undefined });
  }

  #refuse(name: string, error: CertificateError, initial: boolean): void {
    // Only the code and OpenSSL's reason: never the PEM, the key or the passphrase.
    this.#opts.logger?.error(
      { certificate: name, code: error.code, reason: error.message },
      'certificate refused',
    );
    this.emit('rejected', { name, error, initial });
  }

  #path(file: string): string {
    return resolve(this.#opts.baseDir, file);
  }

  #files(source: CertificateSource): string[] {
    if (source.pfxFile) return [this.#path(source.pfxFile)];
    const files: string[] = [];
    if (source.certFile) files.push(this.#path(source.certFile));
    if (source.keyFile) files.push(this.#path(source.keyFile));
    return files;
  }

  async #read(source: CertificateSource): Promise<ReadResult> {
    const hash = crypto().createHash('sha256');
    const readOne = async (file: string): Promise<Buffer> => {
      try {
        const data = await fsp().readFile(this.#path(file));
        hash.update(data).update('\0');
        return data;
      } catch (err) {
        throw new CertificateError(
          'certificate_unreadable',
          `cannot read ${this.#path(file)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
    };
    const passphrase = source.passphrase;
    if (source.pfxFile) {
      const pfx = await readOne(source.pfxFile);
      return { material: { pfx, passphrase }, origin: 'pfx', hash: hash.digest('hex') };
    }
    const cert = source.certFile ? (await readOne(source.certFile)).toString('utf8') : source.cert;
    const key = source.keyFile ? (await readOne(source.keyFile)).toString('utf8') : source.key;
    if (!cert || !key) {
      throw new CertificateError(
        'source_invalid',
        'a certificate source needs certFile+keyFile, cert+key or pfxFile',
      );
    }
    if (!source.certFile) hash.update(cert).update('\0').update(key);
    const origin = source.certFile || source.keyFile ? 'files' : 'memory';
    return { material: { cert, key, passphrase }, origin, hash: hash.digest('hex') };
  }

  #validate(
    name: string,
    _source: CertificateSource,
    material: PairMaterial,
    origin: CertificateInfo['origin'],
  ): CertificateEntry {
    let x509: X509Certificate;
    let secureContext: tls.SecureContext;
    if ('pfx' in material) {
      try {
        // OpenSSL parses the bundle and refuses a key that does not match the certificate.
        secureContext = tlsModule().createSecureContext({
          ...this.#opts.contextOptions,
          pfx: material.pfx,
          passphrase: material.passphrase,
        });
      } catch (err) {
        throw new CertificateError('certificate_invalid', `PKCS#12: ${opensslReason(err)}`);
      }
      const der = leafFromContext(secureContext);
      if (!der) throw new CertificateError('certificate_invalid', 'PKCS#12 holds no certificate');
      x509 = new (crypto().X509Certificate)(der);
    } else {
      const pems = splitPemCertificates(material.cert);
      if (pems.length === 0) throw new CertificateError('certificate_invalid', 'no PEM certificate found');
      try {
        x509 = new (crypto().X509Certificate)(pems[0]!);
      } catch (err) {
        throw new CertificateError('certificate_invalid', `cannot parse certificate: ${opensslReason(err)}`);
      }
      let key: KeyObject;
      try {
        key = crypto().createPrivateKey({
          key: material.key,
          format: 'pem',
          passphrase: material.passphrase,
        });
      } catch (err) {
        throw new CertificateError(
          'key_invalid',
          `cannot read private key (wrong passphrase?): ${opensslReason(err)}`,
        );
      }
      if (!x509.checkPrivateKey(key)) {
        throw new CertificateError('key_mismatch', 'the private key does not belong to the certificate');
      }
      try {
        secureContext = tlsModule().createSecureContext({
          ...this.#opts.contextOptions,
          cert: material.cert,
          key: material.key,
          passphrase: material.passphrase,
        });
      } catch (err) {
        throw new CertificateError('certificate_invalid', opensslReason(err));
      }
    }
    const notBefore = new Date(x509.validFrom);
    const notAfter = new Date(x509.validTo);
    const now = this.#opts.now();
    if (now > notAfter.getTime()) {
      throw new CertificateError('certificate_expired', `certificate expired at ${notAfter.toISOString()}`);
    }
    if (now + this.#opts.notBeforeToleranceMs < notBefore.getTime()) {
      throw new CertificateError(
        'certificate_not_yet_valid',
        `certificate not valid before ${notBefore.toISOString()}`,
      );
    }
    const { dnsNames, ipAddresses } = subjectAltNames(x509);
    const info: CertificateInfo = {
      name,
      subject: commonName(x509.subject),
      issuer: commonName(x509.issuer),
      dnsNames,
      ipAddresses,
      serialNumber: x509.serialNumber.toUpperCase(),
      notBefore,
      notAfter,
      fingerprint256: x509.fingerprint256,
      origin,
    };
    return { info, secureContext, material, x509 };
  }

  async #statSignature(source: CertificateSource): Promise<string | undefined> {
    const files = this.#files(source);
    if (files.length === 0) return undefined;
    const parts = await Promise.all(
      files.map(async (f) => {
        const s = await fsp().stat(f);
        return `${s.dev}:${s.ino}:${s.mtimeMs}:${s.size}`;
      }),
    );
    return parts.join('|');
  }

  /** Re-reads a file-backed pair; swaps it in when the content changed and is valid. */
  async #checkFiles(name: string, slot: Slot): Promise<void> {
    if (this.#closed) return;
    const source = slot.source;
    let read: ReadResult;
    try {
      read = await this.#read(source);
    } catch (err) {
      // A file briefly missing during a swap: the poll or the next event will look again.
      this.#opts.logger?.debug(
        { certificate: name, reason: (err as Error).message },
        'certificate files not readable yet',
      );
      return;
    }
    slot.statSignature = await this.#statSignature(source).catch(() => undefined);
    if (read.hash === slot.seenHash) return;
    slot.seenHash = read.hash;
    try {
      const entry = this.#validate(name, source, read.material, read.origin);
      this.#install(name, slot, entry);
    } catch (err) {
      this.#refuse(name, toCertificateError(err), false);
    }
  }

  #namesInDir(dir: string): string[] {
    const out: string[] = [];
    for (const [name, slot] of this.#slots) {
      if (this.#files(slot.source).some((f) => dirname(f) === dir)) out.push(name);
    }
    return out;
  }

  #syncWatchers(): void {
    const wanted = new Set<string>();
    for (const slot of this.#slots.values()) for (const f of this.#files(slot.source)) wanted.add(dirname(f));
    for (const [dir, w] of this.#watchers) {
      if (!wanted.has(dir)) {
        w.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = fsWatch(dir, { persistent: false }, () => this.#onDirEvent(dir));
        w.on('error', (err) => {
          this.#opts.logger?.warn(
            { dir, reason: err.message },
            'certificate directory watch failed; polling',
          );
          w.close();
          if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, w);
      } catch (err) {
        this.#opts.logger?.warn(
          { dir, reason: (err as Error).message },
          'cannot watch certificate directory; polling',
        );
      }
    }
  }

  #onDirEvent(dir: string): void {
    if (this.#closed) return;
    const pending = this.#debounce.get(dir);
    if (pending) clearTimeout(pending);
    const timer = setTimeout(() => {
      this.#debounce.delete(dir);
      for (const name of this.#namesInDir(dir)) void this.recheck(name);
    }, this.#opts.debounceMs);
    timer.unref();
    this.#debounce.set(dir, timer);
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) return;
    this.#syncWatchers(); // re-creates a watch lost to an error (directory removed and re-created)
    for (const [name, slot] of this.#slots) {
      if (!isFileSource(slot.source)) continue;
      const sig = await this.#statSignature(slot.source).catch(() => undefined);
      if (sig !== undefined && sig !== slot.statSignature) await this.recheck(name);
    }
  }
}

function isFileSource(source: CertificateSource): boolean {
  return Boolean(source.certFile || source.keyFile || source.pfxFile);
}

function toCertificateError(err: unknown): CertificateError {
  if (err instanceof CertificateError) return err;
  return new CertificateError('certificate_invalid', opensslReason(err));
}

/** OpenSSL's reason without anything from the input. */
function opensslReason(err: unknown): string {
  const e = err as { reason?: string; code?: string; message?: string };
  return e.reason ?? e.code ?? e.message ?? 'invalid';
}

/** The leaf certificate (DER) loaded in a secure context; Node exposes it on the native context. */
function leafFromContext(ctx: tls.SecureContext): Buffer | undefined {
  const native = (ctx as unknown as { context?: { getCertificate?: () => Buffer | null } }).context;
  return native?.getCertificate?.() ?? undefined;
}

/** The CN of an X509Certificate subject/issuer string (`CN=a\nO=b`). */
export function commonName(dn: string): string {
  for (const line of dn.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return '';
}

/** DNS and IP SANs of a certificate. */
export function subjectAltNames(x509: X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  // Node's format: "DNS:a.example, DNS:b.example, IP Address:127.0.0.1"
  for (const part of (x509.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4).replace(/^"|"$/g, ''));
    else if (part.startsWith('IP Address:')) ipAddresses.push(part.slice(11));
  }
  return { dnsNames, ipAddresses };
}
