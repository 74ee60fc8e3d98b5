// Southbound TLS: the connect options of an upstream pool (nginx proxy_ssl_*), and TLS errors as stable codes.
// node:tls is loaded when a TLS upstream first connects (util/lazy-builtin.ts): the pools import this
// file whatever their upstreams are.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type tls from 'node:tls';
import type { buildConnector } from 'undici';
import type { UpstreamTlsConfig } from '../config/types.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

const tlsModule = lazyBuiltin('node:tls');

/** TLS options of an upstream connection (a subset of tls.ConnectionOptions; also undici's `connect:`). */
export type UpstreamConnectOptions = Pick<
  tls.ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'passphrase'
  | 'rejectUnauthorized'
  | 'servername'
  | 'checkServerIdentity'
  | 'minVersion'
>;

function readMaybe(value: string | undefined, file: string | undefined, baseDir: string): string | undefined {
  return file ? readFileSync(resolve(baseDir, file), 'utf8') : value;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Length of the verified chain above the leaf, minus the anchor: what OpenSSL's verify depth limits. */
function intermediates(cert: tls.PeerCertificate): number {
  let n = 0;
  let c: tls.DetailedPeerCertificate | undefined = (cert as tls.DetailedPeerCertificate).issuerCertificate;
  const seen = new Set<string>([cert.fingerprint256]);
  while (c && c.fingerprint256 && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    n++;
    c = c.issuerCertificate;
  }
  return Math.max(0, n - 1);
}

/**
 * Connect options for the TLS connections to `url`'s origin.
 * - Trust: a configured CA bundle *replaces* the default roots (nginx trusts only
 *   proxy_ssl_trusted_certificate); without one, Node's defaults apply, NODE_EXTRA_CA_CERTS included.
 * - SNI: `name` or the URL host; never for an IP literal, never with `serverName: false`.
 * - The certificate is checked against `name` when given (nginx proxy_ssl_name), else the URL host.
 * Files are read once, here: a pool is rebuilt by a config swap.
 */
export function buildUpstreamConnectOptions(
  cfg: UpstreamTlsConfig | undefined,
  url: URL,
  baseDir: string = process.cwd(),
): UpstreamConnectOptions {
  const c = cfg ?? {};
  const host = unbracket(url.hostname);
  const verifyName = c.name ?? host;
  const opts: UpstreamConnectOptions = { rejectUnauthorized: c.verify !== false };
  const ca = readMaybe(c.ca, c.caFile, baseDir);
  if (ca) opts.ca = ca;
  const cert = readMaybe(c.cert, c.certFile, baseDir);
  const key = readMaybe(c.key, c.keyFile, baseDir);
  if (cert && key) {
    opts.cert = cert;
    opts.key = key;
    if (c.passphrase) opts.passphrase = c.passphrase;
  }
  if (c.minVersion) opts.minVersion = c.minVersion;
  if (c.serverName !== false && isIP(verifyName) === 0) opts.servername = verifyName;
  const depth = c.verifyDepth;
  opts.checkServerIdentity = (_hostname, peer) => {
    const err = tlsModule().checkServerIdentity(verifyName, peer);
    if (err) return err;
    if (depth !== undefined && intermediates(peer) > depth) {
      return Object.assign(new Error(`certificate chain longer than verify depth ${depth}`), {
        code: 'CERT_CHAIN_TOO_LONG',
      });
    }
    return undefined;
  };
  return opts;
}

/** True when connections must be made without SNI although the host is a name (undici always sends one). */
export function suppressesSni(cfg: UpstreamTlsConfig | undefined, url: URL): boolean {
  // No SNI when switched off, and never for an IP literal (unless a name override gives one).
  if (cfg?.serverName === false) return true;
  return isIP(unbracket(url.hostname)) !== 0 && cfg?.name === undefined;
}

/**
 * An undici connector for `url`'s origin: `buildConnector(buildUpstreamConnectOptions(...))`, except that
 * with `serverName: false` it connects without SNI (undici would fall back to the host name).
 * Pass it as `connect:` of a Pool/Client/Agent.
 */
export function createUpstreamConnector(
  cfg: UpstreamTlsConfig | undefined,
  url: URL,
  baseDir?: string,
  extra: { timeout?: number; lookup?: unknown } = {},
): buildConnector.connector {
  const options = buildUpstreamConnectOptions(cfg, url, baseDir);
  // For library users who bring undici: the engine itself does not load it (see upstream/h1).
  const { buildConnector } = createRequire(import.meta.url)('undici') as {
    buildConnector: typeof import('undici').buildConnector;
  };
  const base = buildConnector({ ...options, ...extra } as buildConnector.BuildOptions);
  if (!suppressesSni(cfg, url)) {
    // undici derives SNI from the request's Host header, which must not win over the configured name
    // (nginx `proxy_ssl_name`, default the upstream host).
    const servername = options.servername;
    return (connectOpts, callback) => base({ ...connectOpts, servername }, callback);
  }
  return (connectOpts, callback) => {
    if (connectOpts.protocol !== 'https:') return base(connectOpts, callback);
    const port = Number(connectOpts.port) || 443;
    let done = false;
    const socket = tlsModule().connect({
      ...options,
      ...(extra.lookup ? { lookup: extra.lookup as tls.ConnectionOptions['lookup'] } : {}),
      host: connectOpts.hostname,
      port,
      ALPNProtocols: ['http/1.1'],
      ...(connectOpts.httpSocket ? { socket: connectOpts.httpSocket as import('node:net').Socket } : {}),
    });
    socket.setNoDelay(true);
    const timer = extra.timeout
      ? setTimeout(
          () => fail(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
          extra.timeout,
        )
      : undefined;
    function fail(err: Error) {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      callback(err, null);
    }
    socket.once('secureConnect', () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.removeListener('error', fail);
      callback(null, socket);
    });
    socket.once('error', fail);
    return socket;
  };
}

// Certificate verification failures keep OpenSSL's name (what nginx logs and what operators search for).
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

/** The TLS cause of `err` (walking `cause`), or undefined when it is not a TLS failure. */
export function tlsErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (VERIFY_CODES.has(code)) return code;
      // OpenSSL errors surface as ERR_SSL_<REASON> (alerts from the peer, protocol errors)
      if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A stable code for a TLS failure towards an upstream, for the 502 JSON: the OpenSSL verify code
 * (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), Node's `ERR_TLS_*` / `ERR_SSL_*` code, else `TLS_ERROR`.
 */
export function describeTlsError(err: unknown): string {
  return tlsErrorCode(err) ?? 'TLS_ERROR';
}
