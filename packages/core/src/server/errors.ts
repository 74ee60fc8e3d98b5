// Writing an error answer through the renderer chosen for the request. The codes are in
// errors/codes.ts, upstream failures are classified in errors/upstream.ts.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { STATUS, type ErrorCode } from '../errors/codes.js';
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
