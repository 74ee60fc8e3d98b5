// `quota` (reference §4.11): per product with quota/quotaInterval/quotaTimeUnit, identifier
// `<org>.<env>.<application_name>.<product>`, window from its first hit, weight 1, counted in a
// shared store (all workers, and all instances with Redis) instead of edgemicro's per-worker
// buffers. Every checked request gets X-RateLimit-Limit/-Remaining/-Reset (seconds left). Over the
// limit: 403 `{"message":"exceeded quota","status":403}` (429 with
// `quotas.isHTTPStatusTooManyRequestEnabled`). Store down: `quotas.failOpen` admits and marks
// `req['quota-failed-open']`; otherwise 500 (fail closed).
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import type { QuotaTimeUnit } from '../../control-plane/types.js';
import type { GatewayPluginContext } from '../context.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { bool, sectionOf, strings, type Section } from '../shared/options.js';
import type { CounterStore } from '../stores/counter-store.js';

const UNIT_MS: Record<QuotaTimeUnit, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 31 * 86_400_000,
};

interface ProductQuota {
  readonly allow: number;
  readonly windowMs: number;
  readonly proxies: ReadonlySet<string>;
}

export function quota(gctx: GatewayPluginContext, store: () => CounterStore): NativePlugin {
  return definePlugin({
    name: 'quota',
    init() {
      // EDGEMICRO_LOCAL skips quota (no products, no apps).
      if (gctx.mode === 'local') return {};
      const quotas = sectionOf(gctx.config, 'quotas', {}) as Section;
      const failOpen = bool(quotas, 'quotas', 'failOpen', false);
      const status = bool(quotas, 'quotas', 'isHTTPStatusTooManyRequestEnabled', false) ? 429 : 403;
      const excluded = compileExcludeUrls(strings(quotas, 'quotas', 'excludeUrls'));
      const exceeded = JSON.stringify({ message: 'exceeded quota', status });
      const byProduct = new Map<string, ProductQuota>();
      for (const p of gctx.edge.products)
        if (p.quota && p.quota.allow > 0 && p.quota.interval > 0)
          byProduct.set(p.name, {
            allow: p.quota.allow,
            windowMs: p.quota.interval * UNIT_MS[p.quota.timeUnit],
            proxies: new Set(p.proxies),
          });
      const counters = store();
      const prefix = `${gctx.org}.${gctx.env}.`;
      return {
        async onRequest(ctx) {
          const req = ctx.req;
          if (excluded(req)) return;
          const token = req.token as { api_product_list?: unknown; application_name?: unknown } | undefined;
          const list = token?.api_product_list;
          if (!Array.isArray(list)) return;
          const app = typeof token!.application_name === 'string' ? token!.application_name : '';
          const proxy = ctx.res.proxy.name;
          // Products in series: the first exceeded one answers.
          for (const name of list) {
            if (typeof name !== 'string') continue;
            const q = byProduct.get(name);
            if (!q || !q.proxies.has(proxy)) continue;
            let count: number;
            let resetInMs: number;
            try {
              ({ count, resetInMs } = await counters.hit(`${prefix}${app}.${name}`, q.windowMs, 1));
            } catch {
              if (failOpen) {
                req['quota-failed-open'] = true;
                continue;
              }
              return ctx.respond(500, JSON.stringify({ message: 'quota store unavailable', status: 500 }));
            }
            ctx.res.setHeader('x-ratelimit-limit', String(q.allow));
            ctx.res.setHeader('x-ratelimit-remaining', String(q.allow - count));
            ctx.res.setHeader('x-ratelimit-reset', String(Math.max(0, Math.ceil(resetInMs / 1000))));
            if (count > q.allow) return ctx.respond(status, exceeded);
          }
        },
      };
    },
  });
}
