// Errors a client sees: each has a stable code, a status and a JSON body; the access log records
// the cause. Bodies are small constants or built once per error, never on the success path.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

export type ErrorCode =
  | 'not_found'
  | 'bad_request'
  | 'invalid_target'
  | 'ambiguous_path'
  | 'duplicate_host'
  | 'invalid_host'
  | 'payload_too_large'
  | 'header_too_large'
  | 'request_timeout'
  | 'too_many_rewrites'
  | 'internal_error'
  | 'upstream_connect_failed'
  | 'upstream_reset'
  | 'upstream_dns'
  | 'upstream_tls'
  | 'upstream_timeout'
  | 'upstream_invalid_response'
  | 'upstream_busy'
  | 'upgrade_failed'
  | 'auth_request_failed'
  | 'client_certificate_required'
  | 'client_certificate_invalid'
  | 'client_certificate_expired'
  | 'shutting_down'
  | 'plugin_error';

export const STATUS: Record<ErrorCode, number> = {
  not_found: 404,
  bad_request: 400,
  invalid_target: 400,
  ambiguous_path: 400,
  duplicate_host: 400,
  invalid_host: 400,
  payload_too_large: 413,
  header_too_large: 431,
  request_timeout: 408,
  too_many_rewrites: 500,
  internal_error: 500,
  upstream_connect_failed: 502,
  upstream_reset: 502,
  upstream_dns: 502,
  upstream_tls: 502,
  upstream_timeout: 504,
  upstream_invalid_response: 502,
  upstream_busy: 503,
  upgrade_failed: 502,
  auth_request_failed: 500,
  client_certificate_required: 400,
  client_certificate_invalid: 400,
  client_certificate_expired: 400,
  shutting_down: 503,
  plugin_error: 500,
};

const MESSAGES: Record<ErrorCode, string> = {
  not_found: 'no route matches this request',
  bad_request: 'malformed request',
  invalid_target: 'invalid request target',
  ambiguous_path:
    'ambiguous path (an encoded separator next to a dot segment, `..;`, or a segment ending in a dot or space)',
  duplicate_host: 'more than one Host header',
  invalid_host: 'invalid Host header',
  payload_too_large: 'request body larger than allowed',
  header_too_large: 'request header fields too large',
  request_timeout: 'request not received in time',
  too_many_rewrites: 'rewrite cycle',
  internal_error: 'internal error',
  upstream_connect_failed: 'could not connect to the upstream',
  upstream_reset: 'the upstream closed the connection',
  upstream_dns: 'could not resolve the upstream host',
  upstream_tls: 'TLS handshake with the upstream failed',
  upstream_timeout: 'the upstream did not answer in time',
  upstream_invalid_response: 'the upstream sent an invalid response',
  upstream_busy: 'no upstream connection became free in time',
  upgrade_failed: 'the upstream refused the upgrade',
  auth_request_failed: 'authorization subrequest failed',
  client_certificate_required: 'no required SSL certificate was sent',
  client_certificate_invalid: 'the SSL certificate error',
  client_certificate_expired: 'the SSL certificate has expired',
  shutting_down: 'server is shutting down',
  plugin_error: 'plugin error',
};

/** A failure with a stable code; `detail` (e.g. a TLS error name) goes into the body and the log. */
export class ProxyError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code], options);
    this.status = STATUS[code];
  }
}

export function errorBody(code: ErrorCode, detail?: string): string {
  const status = STATUS[code];
  return detail === undefined
    ? JSON.stringify({ error: code, message: MESSAGES[code], status })
    : JSON.stringify({ error: code, message: MESSAGES[code], detail, status });
}

/** Write a JSON error if nothing was sent yet; otherwise cut the response so it cannot look complete. */
export function sendError(
  res: ServerResponse | Http2ServerResponse,
  code: ErrorCode,
  detail?: string,
  closeConnection = false,
): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  const body = errorBody(code, detail);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (closeConnection && !('stream' in res)) headers.connection = 'close';
  res.writeHead(STATUS[code], headers);
  res.end(body);
}

/** Map an upstream client (ours or undici's) or Node network error to a code. */
export function classifyUpstreamError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const code = e?.code ?? '';
  if (
    code === 'UPSTREAM_HEADERS_TIMEOUT' ||
    code === 'UPSTREAM_BODY_TIMEOUT' ||
    code === 'UPSTREAM_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return new ProxyError('upstream_timeout', code, { cause: err });
  if (
    code === 'ECONNREFUSED' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'EADDRNOTAVAIL'
  )
    return new ProxyError('upstream_connect_failed', code, { cause: err });
  if (code === 'UPSTREAM_QUEUE_FULL' || code === 'UPSTREAM_QUEUE_TIMEOUT')
    return new ProxyError('upstream_busy', code, { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL')
    return new ProxyError('upstream_dns', code, { cause: err });
  if (code === 'ETIMEDOUT') return new ProxyError('upstream_timeout', code, { cause: err });
  if (
    code === 'HPE_INVALID_CONSTANT' ||
    code.startsWith('HPE_') ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
  )
    return new ProxyError('upstream_invalid_response', code, { cause: err });
  if (
    /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_|HOSTNAME_MISMATCH)/.test(code) ||
    /SSL|TLS|certificate/i.test(e?.message ?? '')
  )
    return new ProxyError('upstream_tls', code || e?.message, { cause: err });
  return new ProxyError('upstream_reset', code || e?.message || 'unknown', { cause: err });
}
