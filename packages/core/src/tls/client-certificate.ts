// What a request handler needs to know about the client certificate of a connection, with nginx's semantics.
// The handshake never fails for a missing or bad client certificate: like nginx, the request gets a 400.
import type { TLSSocket } from 'node:tls';
import { escapeUriComponentNginx } from './escape.js';

export type ClientCertificateMode = 'off' | 'optional' | 'optional_no_ca' | 'required';

export type ClientCertificateErrorCode =
  'client_certificate_required' | 'client_certificate_invalid' | 'client_certificate_expired';

/** Verification errors that `optional_no_ca` ignores (nginx's ngx_ssl_verify_error_optional). */
const UNTRUSTED_CHAIN_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

// Per-connection results: the certificate of a connection does not change, handlers ask per request.
const errorCache = new WeakMap<TLSSocket, ClientCertificateErrorCode | null>();
const escapedCache = new WeakMap<TLSSocket, string>();

function authorizationCode(socket: TLSSocket): string | undefined {
  // Node's typings say Error, but at run time it is the OpenSSL code string.
  const e = socket.authorizationError as unknown;
  if (e === undefined || e === null) return undefined;
  if (typeof e === 'string') return e;
  return String((e as { code?: string }).code ?? (e as Error).message);
}

/** Number of CA certificates between the leaf and the trust anchor (OpenSSL's verify depth measure). */
function intermediateCount(socket: TLSSocket): number {
  let cert = socket.getPeerCertificate(true);
  let chain = 0;
  const seen = new Set<string>();
  while (cert && cert.fingerprint256 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain++;
    const next = cert.issuerCertificate;
    if (!next || next.fingerprint256 === cert.fingerprint256) break;
    cert = next;
  }
  // leaf + intermediates + anchor
  return Math.max(0, chain - 2);
}

/**
 * The stable error code a request on this connection must be refused with (a 400), or undefined.
 * - `required`: a verified certificate must have been sent;
 * - `optional`: when sent, it must verify;
 * - `optional_no_ca`: when sent, the chain is not checked, but an expired (or not yet valid) one is refused
 *   — as nginx does.
 * `verifyDepth` limits the intermediate CAs (best effort: Node has no verify-depth setting).
 */
export function clientCertificateError(
  socket: TLSSocket,
  mode: ClientCertificateMode,
  verifyDepth?: number,
): ClientCertificateErrorCode | undefined {
  if (mode === 'off') return undefined;
  const cached = errorCache.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const result = computeError(socket, mode, verifyDepth);
  errorCache.set(socket, result ?? null);
  return result;
}

function computeError(
  socket: TLSSocket,
  mode: ClientCertificateMode,
  verifyDepth: number | undefined,
): ClientCertificateErrorCode | undefined {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return mode === 'required' ? 'client_certificate_required' : undefined;
  const now = Date.now();
  if (now > new Date(cert.validTo).getTime() || now < new Date(cert.validFrom).getTime()) {
    return 'client_certificate_expired';
  }
  const code = authorizationCode(socket);
  if (mode === 'optional_no_ca') {
    if (code === undefined || UNTRUSTED_CHAIN_ERRORS.has(code)) return undefined;
    return DATE_ERRORS.has(code) ? 'client_certificate_expired' : 'client_certificate_invalid';
  }
  if (!socket.authorized) {
    return code !== undefined && DATE_ERRORS.has(code)
      ? 'client_certificate_expired'
      : 'client_certificate_invalid';
  }
  if (verifyDepth !== undefined && intermediateCount(socket) > verifyDepth)
    return 'client_certificate_invalid';
  return undefined;
}

/**
 * The client's leaf certificate as PEM, URL-escaped like nginx's `$ssl_client_escaped_cert`;
 * '' when no certificate was sent.
 */
export function escapedClientCertificate(socket: TLSSocket): string {
  const cached = escapedCache.get(socket);
  if (cached !== undefined) return cached;
  const cert = socket.getPeerX509Certificate();
  // X509Certificate#toString is PEM_write_bio_X509, the same bytes nginx escapes.
  const escaped = cert ? escapeUriComponentNginx(cert.toString()) : '';
  escapedCache.set(socket, escaped);
  return escaped;
}
