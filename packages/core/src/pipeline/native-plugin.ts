// Native plugins: typed async hooks adapted to edgemicro handlers of the right arity, so both forms
// run in one chain with one set of semantics (order, chunk replacement, errors, timeouts).
import type { OutgoingHttpHeaders } from 'node:http';
import type {
  EdgemicroHandlers,
  Handler5,
  HookContext,
  NativeHooks,
  NativePlugin,
  Next,
  PluginRequest,
  PluginResponse,
  TargetResponse,
} from './types.js';

/** Declare a native plugin (identity, for typing). */
export function definePlugin(plugin: NativePlugin): NativePlugin {
  return plugin;
}

function context(
  req: PluginRequest,
  res: PluginResponse,
  targetResponse: TargetResponse | null,
): HookContext {
  return {
    req,
    res,
    targetResponse: targetResponse ?? undefined,
    respond(status, body, headers) {
      if (res.headersSent || res.writableEnded) return;
      const h: OutgoingHttpHeaders = { ...headers };
      let payload: string | Buffer | undefined;
      if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
      else {
        payload = JSON.stringify(body);
        if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
          h['content-type'] = 'application/json';
      }
      res.writeHead(status, h);
      res.end(payload);
    },
  };
}

const answered = (res: PluginResponse): boolean => res.headersSent || res.writableEnded;

/** Run a hook; settle synchronously when it returns a plain value, so sync hooks cost no microtask. */
function settle(run: () => unknown, ok: (value: unknown) => void, next: Next): void {
  let value: unknown;
  try {
    value = run();
  } catch (err) {
    return next(err ?? new Error('plugin hook threw'));
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
    (value as PromiseLike<unknown>).then(ok, (err: unknown) =>
      next(err ?? new Error('plugin hook rejected')),
    );
  else ok(value);
}

/** onRequest/onResponse/onClose: continue, or stop when the hook answered. */
function control(hook: (ctx: HookContext) => unknown): Handler5 {
  return (req, res, targetResponse, _data, next) =>
    settle(
      () => hook(context(req, res, targetResponse)),
      () => (answered(res) ? next(true) : next()),
      next,
    );
}

/** Data and end hooks: `undefined` keeps the data, anything else replaces it. */
function chunk(hook: (ctx: HookContext, data: Buffer | string | null) => unknown): Handler5 {
  return (req, res, targetResponse, data, next) =>
    settle(
      () => hook(context(req, res, targetResponse), data as Buffer | string | null),
      (out) => (out === undefined ? next(null) : next(null, out as Buffer | string | null)),
      next,
    );
}

function failure(hook: (ctx: HookContext, err: Error) => unknown): Handler5 {
  return (req, res, targetResponse, data, next) =>
    settle(
      () => hook(context(req, res, targetResponse), data as Error),
      () => next(),
      next,
    );
}

/** Turn typed hooks into edgemicro handlers (all five-parameter, so they get the target response). */
export function nativeHandlers(hooks: NativeHooks): EdgemicroHandlers {
  const h: EdgemicroHandlers = {};
  if (hooks.onRequest) h.onrequest = control(hooks.onRequest.bind(hooks));
  if (hooks.onRequestData) h.ondata_request = chunk(hooks.onRequestData.bind(hooks) as never);
  if (hooks.onRequestEnd) h.onend_request = chunk(hooks.onRequestEnd.bind(hooks));
  if (hooks.onRequestError) h.onerror_request = failure(hooks.onRequestError.bind(hooks));
  if (hooks.onRequestClose) h.onclose_request = control(hooks.onRequestClose.bind(hooks));
  if (hooks.onResponse) h.onresponse = control(hooks.onResponse.bind(hooks));
  if (hooks.onResponseData) h.ondata_response = chunk(hooks.onResponseData.bind(hooks) as never);
  if (hooks.onResponseEnd) h.onend_response = chunk(hooks.onResponseEnd.bind(hooks));
  if (hooks.onResponseError) h.onerror_response = failure(hooks.onResponseError.bind(hooks));
  if (hooks.onResponseClose) h.onclose_response = control(hooks.onResponseClose.bind(hooks));
  return h;
}
