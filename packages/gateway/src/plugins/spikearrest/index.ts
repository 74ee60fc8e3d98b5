// `spikearrest` (reference §4.12): smoothing, not a bucket. With `allow` per `timeUnit`, a request
// is admitted only when the last admitted one was at least timeUnit/allow ago; otherwise 503
// `{"message":"SpikeArrest engaged","status":503}`. The last-admitted time lives in the shared
// store, so N workers (and instances on Redis) admit the configured rate, not N times it.
// `bufferSize` (edgemicro's wait queue) is not implemented: excess requests are refused at once.
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { bool, num, PluginConfigError, sectionOf, str, strings } from '../shared/options.js';
import type { CounterStore } from '../stores/counter-store.js';

const ENGAGED = JSON.stringify({ message: 'SpikeArrest engaged', status: 503 });

export function spikearrest(gctx: GatewayPluginContext, store: () => CounterStore): NativePlugin {
  return definePlugin({
    name: 'spikearrest',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'spikearrest', initConfig);
      const unit = str(s, 'spikearrest', 'timeUnit');
      if (unit !== 'second' && unit !== 'minute')
        throw new PluginConfigError('spikearrest', 'timeUnit', '"second" or "minute"');
      const allow = num(s, 'spikearrest', 'allow', 0);
      if (!(allow > 0)) throw new PluginConfigError('spikearrest', 'allow', 'a number > 0');
      const failOpen = bool(s, 'spikearrest', 'failOpen', false);
      const intervalMs = (unit === 'second' ? 1000 : 60_000) / allow;
      const excluded = compileExcludeUrls(strings(s, 'spikearrest', 'excludeUrls'));
      const counters = store();
      const id = `${gctx.org}.${gctx.env}._default`;
      return {
        async onRequest(ctx) {
          if (excluded(ctx.req)) return;
          let ok: boolean;
          try {
            ok = await counters.admit(id, intervalMs);
          } catch {
            if (failOpen) return;
            return ctx.respond(503, ENGAGED);
          }
          if (!ok) ctx.respond(503, ENGAGED);
        },
      };
    },
  });
}
