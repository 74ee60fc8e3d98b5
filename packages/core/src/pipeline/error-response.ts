// A plugin failure answered like edgemicro (reference §4.9): the status the plugin set, or 500 when it
// left a 2xx; the body is the renderer's (the JSON renderer keeps edgemicro's plugin error body).
import { engineError } from '../errors/renderer.js';
import { errorRendererOf, sendError } from '../server/errors.js';
import type { RequestContext } from '../server/request-context.js';

export { pluginErrorBody } from '../errors/plugin-error-body.js';

/** Status for a plugin error: what the plugin set (≥ 300, changed from `base`), else 500. */
export function pluginErrorStatus(current: number, base: number): number {
  return current >= 300 && current !== base ? current : 500;
}

/** Answer `ctx` with a plugin error (`err` is what the plugin passed to next or threw). */
export function answerPluginError(ctx: RequestContext, err: unknown, status: number): void {
  ctx.error = 'plugin_error';
  const written = sendError(
    ctx.res,
    errorRendererOf(ctx),
    engineError('plugin_error', undefined, err, status),
  );
  ctx.status = written || status;
}

/** Loggable text of any thrown value. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
