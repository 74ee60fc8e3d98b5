// Northbound TLS: the options of a TLS listener (default certificate, SNI, client certificates, versions,
// ciphers) and their hot reload. Certificates come from a CertificateStore; a reload replaces the secure
// context used by new handshakes only — the listener and open connections are untouched.
// node:crypto and node:fs/promises are loaded by the first TLS listener (util/lazy-builtin.ts).
import { resolve } from 'node:path';
import type tls from 'node:tls';
import type { Logger } from '../observability/logger.js';
import type { Registry } from 'prom-client';
import type { CertificateSource, ServerTlsConfig } from '../config/types.js';
import {
  CertificateError,
  CertificateStore,
  type CertificateEntry,
  type CertificateUpdatedEvent,
} from './certificate-store.js';
import {
  clientCertificateError,
  type ClientCertificateErrorCode,
  type ClientCertificateMode,
} from './client-certificate.js';
import { registerTlsMetrics } from './metrics.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

const crypto = lazyBuiltin('node:crypto');
const fsp = lazyBuiltin('node:fs/promises');

/**
 * TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (no CBC, no static RSA, no CCM/ARIA), the list
 * testssl.sh and sslscan pass without warnings. ECDSA first for ECDSA certificates.
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** TLS 1.3 suites (all AEAD). */
export const DEFAULT_TLS13_CIPHERSUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
].join(':');

export const DEFAULT_CIPHERS = `${DEFAULT_TLS13_CIPHERSUITES}:${DEFAULT_TLS12_CIPHERS}`;

/**
 * The cipher string given to Node. nginx's `ssl_ciphers` does not touch TLS 1.3 suites, but Node disables
 * TLS 1.3 when the list names none: keep the default 1.3 suites unless the list names some.
 */
export function effectiveCiphers(ciphers: string | undefined): string {
  if (!ciphers) return DEFAULT_CIPHERS;
  const hasTls13 = ciphers.split(':').some((c) => c.startsWith('TLS_'));
  return hasTls13 ? ciphers : `${DEFAULT_TLS13_CIPHERSUITES}:${ciphers}`;
}

export interface ServerTlsDeps {
  logger: Logger;
  registry: Registry;
  /** Relative file names resolve against it. Default process.cwd(). */
  baseDir?: string;
  /** Prefix of certificate names in logs and metrics (the server's name), e.g. `server0`. */
  name?: string;
  /** Store tuning (tests). */
  pollIntervalMs?: number;
  debounceMs?: number;
}

export interface ServerTlsRuntime {
  /** For https/http2.createSecureServer; the caller adds ALPNProtocols and anything else. */
  serverOptions: tls.TlsOptions;
  /** Keeps `server`'s default certificate current (server.setSecureContext on reload). */
  attach(server: tls.Server): void;
  store: CertificateStore;
  /** The store name of the default certificate. */
  defaultName: string;
  mode: ClientCertificateMode;
  /** `clientCertificateError` with this listener's mode and verify depth. */
  clientCertificateError(socket: tls.TLSSocket): ClientCertificateErrorCode | undefined;
  close(): void;
}

interface SniEntry {
  storeName: string;
  explicit?: string[];
}

/** Lower case, no trailing dot. */
function normaliseHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * SNI lookup table: exact names first, then wildcards. A certificate's `*.example.com` covers one label
 * (RFC 6125); an explicit `*.example.com` or `.example.com` server name covers any depth, as in nginx.
 */
class SniTable {
  readonly #exact = new Map<string, string>();
  readonly #wildcards: Array<{ suffix: string; anyDepth: boolean; includeBase: boolean; storeName: string }> =
    [];

  add(pattern: string, storeName: string, explicit: boolean): void {
    const p = normaliseHost(pattern);
    if (p.startsWith('*.')) {
      this.#wildcards.push({ suffix: p.slice(1), anyDepth: explicit, includeBase: false, storeName });
    } else if (explicit && p.startsWith('.')) {
      this.#wildcards.push({ suffix: p, anyDepth: true, includeBase: true, storeName });
    } else if (!this.#exact.has(p)) {
      this.#exact.set(p, storeName);
    }
  }

  finish(): void {
    // Longest suffix wins.
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  lookup(servername: string): string | undefined {
    const host = normaliseHost(servername);
    const exact = this.#exact.get(host);
    if (exact) return exact;
    for (const w of this.#wildcards) {
      if (w.includeBase && host === w.suffix.slice(1)) return w.storeName;
      if (!host.endsWith(w.suffix)) continue;
      const label = host.slice(0, host.length - w.suffix.length);
      if (label.length > 0 && (w.anyDepth || !label.includes('.'))) return w.storeName;
    }
    return undefined;
  }
}

async function readPem(
  value: string | undefined,
  file: string | undefined,
  baseDir: string,
): Promise<string | undefined> {
  if (file) return fsp().readFile(resolve(baseDir, file), 'utf8');
  return value;
}

function materialOptions(entry: CertificateEntry): tls.SecureContextOptions {
  const m = entry.material;
  return 'pfx' in m
    ? { pfx: m.pfx, passphrase: m.passphrase }
    : { cert: m.cert, key: m.key, passphrase: m.passphrase };
}

export async function createServerTls(cfg: ServerTlsConfig, deps: ServerTlsDeps): Promise<ServerTlsRuntime> {
  const baseDir = deps.baseDir ?? process.cwd();
  const prefix = deps.name ? `${deps.name}/` : '';
  const client = cfg.clientCertificate ?? { mode: 'off' as const };
  const mode = client.mode;
  const clientCa = mode === 'off' ? undefined : await readPem(client.ca, client.caFile, baseDir);
  if ((mode === 'optional' || mode === 'required') && !clientCa) {
    // nginx: "no ssl_client_certificate for ssl_verify_client"
    throw new CertificateError(
      'source_invalid',
      `client certificate mode "${mode}" needs a CA bundle (ca or caFile)`,
    );
  }

  // Shared by every context so that a context switch (SNI, reload) keeps verification and resumption working.
  const common: tls.SecureContextOptions = {
    minVersion: cfg.minVersion ?? 'TLSv1.2',
    maxVersion: cfg.maxVersion,
    ciphers: effectiveCiphers(cfg.ciphers),
    honorCipherOrder: true,
    sessionIdContext: crypto().randomBytes(16).toString('hex'),
    ticketKeys: crypto().randomBytes(48),
    ...(clientCa ? { ca: clientCa } : {}),
  };

  const store = new CertificateStore({
    logger: deps.logger,
    baseDir,
    contextOptions: common,
    pollIntervalMs: deps.pollIntervalMs,
    debounceMs: deps.debounceMs,
  });
  const metrics = registerTlsMetrics(deps.registry);

  const sni: SniEntry[] = [];
  let defaultName: string | undefined;
  try {
    if (cfg.certificate) {
      defaultName = `${prefix}default`;
      await store.load(defaultName, cfg.certificate);
    }
    for (const [i, entry] of (cfg.sni ?? []).entries()) {
      const storeName = `${prefix}sni${i}`;
      const { serverNames, ...source } = entry;
      await store.load(storeName, source as CertificateSource);
      sni.push({ storeName, explicit: serverNames });
      defaultName ??= storeName; // no default certificate: the first SNI certificate serves unknown names
    }
  } catch (err) {
    store.close();
    throw err;
  }
  if (!defaultName)
    throw new CertificateError('source_invalid', 'a TLS server needs at least one certificate');
  const defaultStoreName = defaultName;

  let table = buildTable();
  function buildTable(): SniTable {
    const t = new SniTable();
    for (const e of sni) {
      if (e.explicit && e.explicit.length > 0) {
        for (const n of e.explicit) t.add(n, e.storeName, true);
        continue;
      }
      const info = store.get(e.storeName)?.info;
      if (!info) continue;
      const names = info.dnsNames.length > 0 ? info.dnsNames : info.subject ? [info.subject] : [];
      for (const n of names) t.add(n, e.storeName, false);
      for (const ip of info.ipAddresses) t.add(ip, e.storeName, false);
    }
    t.finish();
    return t;
  }

  const servers = new Set<tls.Server>();
  const onUpdated = (e: CertificateUpdatedEvent) => {
    if (e.initial) return;
    table = buildTable(); // SAN-derived names may change with the new certificate
    if (e.name !== defaultStoreName) return;
    const entry = store.get(defaultStoreName);
    if (!entry) return;
    // New handshakes without SNI (or with an unknown name) get the new certificate; open connections keep theirs.
    for (const server of servers) server.setSecureContext({ ...common, ...materialOptions(entry) });
  };
  store.on('updated', onUpdated);

  const untrack = metrics.track(store);
  if (cfg.watch !== false) store.watch();

  const SNICallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
    const name = table.lookup(servername) ?? defaultStoreName;
    const entry = store.get(name) ?? store.get(defaultStoreName);
    cb(null, entry?.secureContext);
  };

  const defaultEntry = store.get(defaultStoreName)!;
  const serverOptions: tls.TlsOptions = {
    ...common,
    ...materialOptions(defaultEntry),
    SNICallback,
    requestCert: mode !== 'off',
    // Never fail the handshake for a client certificate: the request gets a 400 with a reason, as in nginx.
    rejectUnauthorized: false,
  };

  return {
    serverOptions,
    store,
    defaultName: defaultStoreName,
    mode,
    attach(server) {
      servers.add(server);
      server.once('close', () => servers.delete(server));
    },
    clientCertificateError(socket) {
      return clientCertificateError(socket, mode, client.verifyDepth);
    },
    close() {
      store.off('updated', onUpdated);
      untrack();
      store.close();
      servers.clear();
    },
  };
}
