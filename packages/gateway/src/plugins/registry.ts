// The built-in edgemicro plugins as core native plugins (contracts §3). The runtime resolves each
// `plugins.sequence` name here first (a built-in wins over a custom folder of the same name) and
// refuses a built-in name it cannot run.
import type { NativePlugin } from '@gatehouse/core';
import { accesscontrol } from './accesscontrol/index.js';
import { accumulate } from './accumulate/index.js';
import { analytics } from './analytics/index.js';
import { apikeys } from './apikeys/index.js';
import { bauth } from './bauth/index.js';
import type { GatewayPluginContext } from './context.js';
import { cors } from './cors/index.js';
import { extauth } from './extauth/index.js';
import { headerUppercase } from './header-uppercase/index.js';
import { healthcheck } from './healthcheck/index.js';
import { json2xml } from './json2xml/index.js';
import { oauth } from './oauth/index.js';
import { oauthv2 } from './oauthv2/index.js';
import { quota } from './quota/index.js';
import { spikearrest } from './spikearrest/index.js';
import type { CounterStore } from './stores/counter-store.js';
import { counterStore } from './stores/select.js';
import { sectionOf } from './shared/options.js';
import { transformUppercase } from './transform-uppercase/index.js';
import { CachingVerifier } from './verify/key-cache.js';

export type { GatewayPluginContext } from './context.js';

type Factory = (ctx: GatewayPluginContext, shared: Shared) => NativePlugin;

interface Shared {
  /** One verifyApiKey cache for oauth and apikeys. */
  readonly keys: CachingVerifier | undefined;
  /** The counter store of quota and spikearrest, opened on first use. */
  readonly store: () => CounterStore;
}

const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['analytics', (ctx) => analytics(ctx)],
  ['oauth', (ctx, sh) => oauth(ctx, sh.keys)],
  ['oauthv2', (ctx) => oauthv2(ctx)],
  ['apikeys', (ctx, sh) => apikeys(ctx, sh.keys)],
  ['quota', (ctx, sh) => quota(ctx, sh.store)],
  ['spikearrest', (ctx, sh) => spikearrest(ctx, sh.store)],
  ['cors', (ctx) => cors(ctx)],
  ['healthcheck', (ctx) => healthcheck(ctx)],
  ['accumulate-request', (ctx) => accumulate(ctx, 'request')],
  ['accumulate-response', (ctx) => accumulate(ctx, 'response')],
  ['header-uppercase', () => headerUppercase()],
  ['transform-uppercase', () => transformUppercase()],
  ['accesscontrol', (ctx) => accesscontrol(ctx)],
  ['bauth', (ctx) => bauth(ctx)],
  ['extauth', (ctx) => extauth(ctx)],
  ['json2xml', (ctx) => json2xml(ctx)],
]);

export const BUILTIN_PLUGIN_NAMES: readonly string[] = [...FACTORIES.keys()];

/** Verified API keys are reused for at most this long, whatever the token's own expiry. */
const KEY_CACHE = { maxEntries: 10_000, maxTtlMs: 30 * 60_000 };

/** Built-in edgemicro plugins by name, as core native plugins (core's `definePlugin`). */
export function builtinPlugins(ctx: GatewayPluginContext): ReadonlyMap<string, NativePlugin> {
  const shared: Shared = {
    keys: ctx.verifier ? new CachingVerifier(ctx.verifier, KEY_CACHE) : undefined,
    store: () => counterStore(sectionOf(ctx.config, 'quotas', {})),
  };
  const out = new Map<string, NativePlugin>();
  for (const [name, make] of FACTORIES) out.set(name, make(ctx, shared));
  return out;
}

export { closeAnalytics } from './analytics/index.js';
export { attachCounterService } from './stores/cluster-store.js';
export { closeCounterStores } from './stores/select.js';
