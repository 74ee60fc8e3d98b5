// Writing an error answer through the renderer chosen for the request, and mapping upstream client
// failures to codes. The codes themselves are in errors/codes.ts.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { ProxyError, STATUS, type ErrorCode } from '../errors/codes.js';
import { engineError, renderError, type EngineError, type ErrorRenderer } from '../errors/renderer.js';
import type { RequestContext } from './request-context.js';

/** The renderer for a request's errors: its route's, else its server's, else the snapshot's default. */
export function errorRendererOf(ctx: RequestContext): ErrorRenderer {
  return ctx.route?.errors ?? ctx.server?.errors ?? ctx.snapshot.errors;
}

/** Write an error through `renderer` if nothing was sent yet; otherwise cut the response so it cannot
 *  look complete. Returns the status written (0 when the response was cut). */
export function sendError(
  res: ServerResponse | Http2ServerResponse,
  renderer: ErrorRenderer,
  error: EngineError,
  closeConnection = false,
): number {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return 0;
  }
  const out = renderError(renderer, error);
  const headers: Record<string, string> = out.headers;
  if (closeConnection && !('stream' in res)) headers.connection = 'close';
  res.writeHead(out.status, headers);
  res.end(out.body);
  return out.status;
}

/** sendError for a code, with the request's renderer; records the code and status for the log. */
export function failRequest(
  ctx: RequestContext,
  code: ErrorCode,
  detail?: string,
  close = false,
  cause?: unknown,
  renderer = errorRendererOf(ctx),
): void {
  ctx.error = code;
  const status = sendError(ctx.res, renderer, engineError(code, detail, cause), close);
  ctx.status = status || STATUS[code];
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
