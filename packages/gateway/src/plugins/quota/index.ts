// `quota` (reference §4.11): per product with quota/quotaInterval/quotaTimeUnit, identifier
// `<org>.<env>.<application_name>.<product>`, window from its first hit, weight 1, counted in a
// shared store (all workers, and all instances with Redis) instead of edgemicro's per-worker
// buffers. Every checked request gets X-RateLimit-Limit/-Remaining/-Reset (seconds left). Over the
// limit: 403 `{"message":"exceeded quota","status":403}` (429 with
// `quotas.isHTTPStatusTooManyRequestEnabled`). Store down: `quotas.failOpen` admits and marks
// `req['quota-failed-open']`; otherwise 500 (fail closed).
import { definePlugin, type HookContext, type NativePlugin } from '@gatehouse/core';
import type { QuotaTimeUnit } from '../../control-plane/types.js';
import type { GatewayPluginContext } from '../context.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { bool, sectionOf, strings, type Section } from '../shared/options.js';
import type { CounterStore, WindowCount } from '../stores/counter-store.js';

const UNIT_MS: Record<QuotaTimeUnit, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 31 * 86_400_000,
};

interface ProductQuota {
  readonly allow: number;
  /** X-RateLimit-Limit, made once. */
  readonly limit: string;
  readonly windowMs: number;
  readonly proxies: ReadonlySet<string>;
}

interface TokenQuota {
  readonly q: ProductQuota;
  /** `<org>.<env>.<app>.<product>`. */
  readonly id: string;
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
            limit: String(p.quota.allow),
            windowMs: p.quota.interval * UNIT_MS[p.quota.timeUnit],
            proxies: new Set(p.proxies),
          });
      const counters = store();
      const prefix = `${gctx.org}.${gctx.env}.`;
      const storeDown = JSON.stringify({ message: 'quota store unavailable', status: 500 });

      /** Headers for one counted product; true when it is over its quota (answered). */
      const judge = (ctx: HookContext, q: ProductQuota, w: WindowCount): boolean => {
        const res = ctx.res;
        res.setHeader('x-ratelimit-limit', q.limit);
        res.setHeader('x-ratelimit-remaining', String(q.allow - w.count));
        res.setHeader('x-ratelimit-reset', String(Math.max(0, Math.ceil(w.resetInMs / 1000))));
        if (w.count <= q.allow) return false;
        ctx.respond(status, exceeded);
        return true;
      };

      /** The quotas from `from` on, through the store's asynchronous answer. */
      const countAsync = async (ctx: HookContext, quotas: readonly TokenQuota[], from: number) => {
        const proxy = ctx.res.proxy.name;
        for (let i = from; i < quotas.length; i++) {
          const { q, id } = quotas[i]!;
          if (!q.proxies.has(proxy)) continue;
          let w: WindowCount;
          try {
            w = await counters.hit(id, q.windowMs, 1);
          } catch {
            if (failOpen) {
              ctx.req['quota-failed-open'] = true;
              continue;
            }
            return ctx.respond(500, storeDown);
          }
          if (judge(ctx, q, w)) return;
        }
      };

      /** The token's products that have a quota, with their identifiers; made once per verified
       *  token (frozen claims, cached by the auth plugins), else per request. */
      const quotasByToken = new WeakMap<object, readonly TokenQuota[]>();
      const tokenQuotas = (token: object, list: readonly unknown[], app: string): readonly TokenQuota[] => {
        let out = quotasByToken.get(token);
        if (out === undefined) {
          const made: TokenQuota[] = [];
          for (let i = 0; i < list.length; i++) {
            const name = list[i];
            const q = typeof name === 'string' ? byProduct.get(name) : undefined;
            if (q) made.push({ q, id: `${prefix}${app}.${name as string}` });
          }
          if (Object.isFrozen(token)) quotasByToken.set(token, made);
          out = made;
        }
        return out;
      };

      return {
        // Synchronous while the counts are in this process (no promise, no microtask).
        onRequest(ctx) {
          const req = ctx.req;
          if (excluded(req)) return;
          const token = req.token as { api_product_list?: unknown; application_name?: unknown } | undefined;
          const list = token?.api_product_list;
          if (!Array.isArray(list)) return;
          const app = typeof token!.application_name === 'string' ? token!.application_name : '';
          const proxy = ctx.res.proxy.name;
          // Products in series: the first exceeded one answers.
          const quotas = tokenQuotas(token!, list, app);
          for (let i = 0; i < quotas.length; i++) {
            const { q, id } = quotas[i]!;
            if (!q.proxies.has(proxy)) continue;
            const w = counters.hitLocal(id, q.windowMs, 1);
            if (w === undefined) return countAsync(ctx, quotas, i);
            if (judge(ctx, q, w)) return;
          }
        },
      };
    },
  });
}
