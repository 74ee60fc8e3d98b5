// The engine's error codes: each has a stable name, a status and a message. What the client sees
// of an error is made from these by an error renderer (renderer.ts).

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
  | 'plugin_error'
  | 'unauthorized'
  | 'forbidden';

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
  unauthorized: 401,
  forbidden: 403,
};

export const MESSAGES: Record<ErrorCode, string> = {
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
  unauthorized: 'authorization required',
  forbidden: 'access forbidden',
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
