// `spikearrest` (reference §4.12): smoothing, not a bucket. With `allow` per `timeUnit`, admitted
// requests are at least timeUnit/allow apart. A request that comes too early is refused with 503
// `{"message":"SpikeArrest engaged","status":503}`, unless `bufferSize` > 0: then it waits for the
// next free slot while at most `bufferSize` requests wait (edgemicro's queue), and is refused
// beyond that. A waiting request whose client goes away gives its slot back. Slots live in the
// shared store, so N workers (and instances on Redis) admit the configured rate, not N times it.
import { definePlugin, type NativePlugin, type PluginResponse } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { bool, num, PluginConfigError, sectionOf, str, strings } from '../shared/options.js';
import type { CounterStore, SpikeSlot } from '../stores/counter-store.js';

const ENGAGED = JSON.stringify({ message: 'SpikeArrest engaged', status: 503 });

/** Resolves when the slot's time comes (true) or the client goes away first (false). */
function waitForSlot(res: PluginResponse, slot: SpikeSlot): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, slot.waitMs);
    res.once('close', onClose);
  });
}

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
      const bufferSize = num(s, 'spikearrest', 'bufferSize', 0);
      if (!Number.isInteger(bufferSize))
        throw new PluginConfigError('spikearrest', 'bufferSize', 'a whole number ≥ 0');
      const failOpen = bool(s, 'spikearrest', 'failOpen', false);
      const intervalMs = (unit === 'second' ? 1000 : 60_000) / allow;
      const excluded = compileExcludeUrls(strings(s, 'spikearrest', 'excludeUrls'));
      const counters = store();
      const id = `${gctx.org}.${gctx.env}._default`;
      return {
        async onRequest(ctx) {
          if (excluded(ctx.req)) return;
          let slot: SpikeSlot | null;
          try {
            slot = await counters.reserve(id, intervalMs, bufferSize);
          } catch {
            if (failOpen) return;
            return ctx.respond(503, ENGAGED);
          }
          if (!slot) return ctx.respond(503, ENGAGED);
          if (slot.waitMs <= 0) return;
          if (!(await waitForSlot(ctx.res, slot)))
            // The client left: its slot goes to the next request; the exchange is already over.
            await counters.release(id, slot.slot, intervalMs).catch(() => undefined);
        },
      };
    },
  });
}
