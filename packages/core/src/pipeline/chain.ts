// A route's plugin list compiled once into per-event handler arrays (request phase in sequence
// order, response phase reversed) plus the flags that choose the cheapest path for a request.
import { nativeControlHook } from './native-plugin.js';
import type {
  EdgemicroEvent,
  EdgemicroHandler,
  EdgemicroHandlers,
  HookContext,
  LoadedPlugin,
} from './types.js';

export interface Stage {
  readonly plugin: string;
  readonly event: EdgemicroEvent;
  readonly fn: EdgemicroHandler;
  /** `Function.length` decides the arguments (3, 4, 5, anything else: none). */
  readonly arity: number;
  readonly self: EdgemicroHandlers;
  /** A native plugin's typed control hook (onRequest, onResponse, on…Close): called directly with
   *  the exchange's one hook context instead of through its edgemicro adapter. */
  readonly native: ((ctx: HookContext) => unknown) | undefined;
}

export type Chain = { readonly [E in EdgemicroEvent]: readonly Stage[] } & {
  /** Names the registry does not know (the route is refused rather than run without them). */
  readonly missing: readonly string[];
  /** ondata_request/onend_request present: the request body goes through JavaScript. */
  readonly requestBody: boolean;
  /** Some hook needs the upstream exchange itself (response hooks, upstream error hooks). */
  readonly exchange: boolean;
  /** ondata_response/onend_response present: the response body goes through JavaScript. */
  readonly responseBody: boolean;
  /** A response-phase hook takes `targetResponse` (5 parameters): it is made for each response. */
  readonly targetResponse: boolean;
};

const REQUEST_PHASE: readonly EdgemicroEvent[] = [
  'onrequest',
  'ondata_request',
  'onend_request',
  'onerror_request',
  'onclose_request',
];
const RESPONSE_PHASE: readonly EdgemicroEvent[] = [
  'onresponse',
  'ondata_response',
  'onend_response',
  'onerror_response',
  'onclose_response',
];

function stages(plugins: readonly LoadedPlugin[], event: EdgemicroEvent): Stage[] {
  const out: Stage[] = [];
  for (const p of plugins) {
    const fn = p.handlers[event];
    if (typeof fn === 'function')
      out.push({
        plugin: p.name,
        event,
        fn,
        arity: fn.length,
        self: p.handlers,
        native: nativeControlHook(fn),
      });
  }
  return out;
}

export function compileChain(names: readonly string[], registry: ReadonlyMap<string, LoadedPlugin>): Chain {
  const plugins: LoadedPlugin[] = [];
  const missing: string[] = [];
  for (const n of names) {
    const p = registry.get(n);
    if (p) plugins.push(p);
    else missing.push(n);
  }
  const reversed = [...plugins].reverse();
  const c = { missing } as Record<string, unknown>;
  for (const e of REQUEST_PHASE) c[e] = stages(plugins, e);
  for (const e of RESPONSE_PHASE) c[e] = stages(reversed, e);
  const has = (e: EdgemicroEvent): boolean => (c[e] as Stage[]).length > 0;
  c.requestBody = has('ondata_request') || has('onend_request');
  c.responseBody = has('ondata_response') || has('onend_response');
  c.targetResponse = RESPONSE_PHASE.some((e) => (c[e] as Stage[]).some((s) => s.arity === 5));
  c.exchange =
    c.responseBody ||
    has('onresponse') ||
    has('onerror_request') ||
    has('onerror_response') ||
    has('onclose_response');
  return c as Chain;
}
