// Native plugins: typed async hooks adapted to edgemicro handlers of the right arity, so both forms
// run in one chain with one set of semantics (order, chunk replacement, errors, timeouts).
import type { OutgoingHttpHeaders } from 'node:http';
import type {
  EdgemicroHandler,
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
import { requestField } from '../server/request-context.js';
import { putRequestField } from './plugin-request.js';

/** Declare a native plugin (identity, for typing). */
export function definePlugin(plugin: NativePlugin): NativePlugin {
  return plugin;
}

/** Answer the client from a hook: objects are sent as JSON. */
function respond(
  res: PluginResponse,
  status: number,
  body?: string | Buffer | object,
  headers?: OutgoingHttpHeaders,
): void {
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
}

/** What a native hook gets. The hook runner makes one per exchange for the control hooks (the
 *  target response appears in it once the upstream answered); the data and error hooks' adapters
 *  make one per call. */
export class NativeContext implements HookContext {
  constructor(
    readonly req: PluginRequest,
    readonly res: PluginResponse,
    private readonly exchange: { readonly targetResponse: TargetResponse | null },
  ) {}

  get targetResponse(): TargetResponse | undefined {
    return this.exchange.targetResponse ?? undefined;
  }

  respond(status: number, body?: string | Buffer | object, headers?: OutgoingHttpHeaders): void {
    respond(this.res, status, body, headers);
  }

  requestHeader(name: string): string | undefined {
    return requestField(this.req, name);
  }

  setRequestHeader(name: string, value: string | undefined): void {
    putRequestField(this.req, name, value);
  }
}

const answered = (res: PluginResponse): boolean => res.headersSent || res.writableEnded;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Run a hook; settle synchronously when it returns a plain value, so sync hooks cost no microtask. */
function settle(run: () => unknown, ok: (value: unknown) => void, next: Next): void {
  let value: unknown;
  try {
    value = run();
  } catch (err) {
    return next(err ?? new Error('plugin hook threw'));
  }
  if (isThenable(value)) value.then(ok, (err: unknown) => next(err ?? new Error('plugin hook rejected')));
  else ok(value);
}

type ControlHook = (ctx: HookContext) => unknown;

/** The typed hook behind an adapted control handler: the hook runner calls it directly. */
const controlHooks = new WeakMap<EdgemicroHandler, ControlHook>();

export function nativeControlHook(handler: EdgemicroHandler): ControlHook | undefined {
  return controlHooks.get(handler);
}

/** Run a control hook with `ctx`: `next` as an edgemicro handler would call it. */
export function runControlHook(hook: ControlHook, ctx: HookContext, next: Next): void {
  let value: unknown;
  try {
    value = hook(ctx);
  } catch (err) {
    return next(err ?? new Error('plugin hook threw'));
  }
  if (isThenable(value))
    value.then(
      () => (answered(ctx.res) ? next(true) : next()),
      (err: unknown) => next(err ?? new Error('plugin hook rejected')),
    );
  else if (answered(ctx.res)) next(true);
  else next();
}

/** onRequest/onResponse/onClose: continue, or stop when the hook answered. */
function control(hook: ControlHook): Handler5 {
  const handler: Handler5 = (req, res, targetResponse, _data, next) =>
    runControlHook(hook, new NativeContext(req, res, { targetResponse }), next);
  controlHooks.set(handler, hook);
  return handler;
}

/** Data and end hooks: `undefined` keeps the data, anything else replaces it. */
function chunk(hook: (ctx: HookContext, data: Buffer | string | null) => unknown): Handler5 {
  return (req, res, targetResponse, data, next) =>
    settle(
      () => hook(new NativeContext(req, res, { targetResponse }), data as Buffer | string | null),
      (out) => (out === undefined ? next(null) : next(null, out as Buffer | string | null)),
      next,
    );
}

function failure(hook: (ctx: HookContext, err: Error) => unknown): Handler5 {
  return (req, res, targetResponse, data, next) =>
    settle(
      () => hook(new NativeContext(req, res, { targetResponse }), data as Error),
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
