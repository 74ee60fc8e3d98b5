// Upstream failures as types: one class per engine error code, each carrying the precise code of the
// failure (the client's, e.g. UPSTREAM_HEADERS_TIMEOUT, or Node's, e.g. ECONNREFUSED) like undici's
// errors do. Our upstream client throws these; errors from Node sockets, TLS and undici (the egress
// proxy path) are given their class once, here, and the engine classifies by type.
import { ProxyError, type ErrorCode } from './codes.js';

export abstract class UpstreamError extends Error {
  /** The engine error this failure is answered with. */
  abstract readonly errorCode: ErrorCode;
  constructor(
    /** The precise failure: the client's code or Node's (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID, …). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The connection could not be opened (refused, unreachable). */
export class UpstreamConnectError extends UpstreamError {
  override readonly name = 'UpstreamConnectError';
  readonly errorCode = 'upstream_connect_failed';
}

/** The upstream's name did not resolve. */
export class UpstreamDnsError extends UpstreamError {
  override readonly name = 'UpstreamDnsError';
  readonly errorCode = 'upstream_dns';
}

/** The TLS handshake or the upstream's certificate failed. */
export class UpstreamTlsError extends UpstreamError {
  override readonly name = 'UpstreamTlsError';
  readonly errorCode = 'upstream_tls';
}

/** Connect, response head, response body or request body took too long. */
export class UpstreamTimeoutError extends UpstreamError {
  override readonly name = 'UpstreamTimeoutError';
  readonly errorCode = 'upstream_timeout';
}

/** The upstream's answer broke HTTP (bad head, bad framing). */
export class UpstreamProtocolError extends UpstreamError {
  override readonly name = 'UpstreamProtocolError';
  readonly errorCode = 'upstream_invalid_response';
}

/** Every pool connection was busy and the wait queue was full, or the wait took too long. */
export class UpstreamBusyError extends UpstreamError {
  override readonly name = 'UpstreamBusyError';
  readonly errorCode = 'upstream_busy';
}

/** The connection closed or reset before the exchange was complete. */
export class UpstreamResetError extends UpstreamError {
  override readonly name = 'UpstreamResetError';
  readonly errorCode = 'upstream_reset';
}

/** The engine's own request could not be sent (a field or target a plugin or rewrite made invalid):
 *  the engine's fault, answered 500 and not counted against the upstream. */
export class UpstreamRequestError extends UpstreamError {
  override readonly name = 'UpstreamRequestError';
  readonly errorCode = 'internal_error';
}

/** What Node's HTTP client reports when a server closes without answering (`socket hang up`): the
 *  cause a renderer sees for a reset, as edgemicro's users see it. */
export function socketHangUp(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

const CONNECT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL']);
const TIMEOUT = new Set([
  'ETIMEDOUT',
  'UPSTREAM_HEADERS_TIMEOUT',
  'UPSTREAM_BODY_TIMEOUT',
  'UPSTREAM_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_|HOSTNAME_MISMATCH)/;

/** The typed form of any upstream failure; a foreign error becomes the `cause` of its class. */
export function toUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const options = { cause: err };
  if (TIMEOUT.has(code)) return new UpstreamTimeoutError(code, message, options);
  if (CONNECT.has(code)) return new UpstreamConnectError(code, message, options);
  if (DNS.has(code)) return new UpstreamDnsError(code, message, options);
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    return new UpstreamProtocolError(code, message, options);
  if (TLS_CODE.test(code) || /SSL|TLS|certificate/i.test(message))
    return new UpstreamTlsError(code || message, message, options);
  return new UpstreamResetError(code || message || 'unknown', message, options);
}

/** The engine error for an upstream failure: its class's code, the precise code as detail, and the
 *  underlying Node/TLS error (or the typed error itself) as cause. */
export function classifyUpstreamError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const u = toUpstreamError(err);
  return new ProxyError(u.errorCode, u.code, { cause: u.cause ?? u });
}
