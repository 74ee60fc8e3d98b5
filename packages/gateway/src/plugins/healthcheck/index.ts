// `healthcheck` (edgemicro's namesake): `GET <healthcheck_url>` (default /healthcheck, compared with
// the request target as edgemicro does) is answered here with memory, CPU, uptime and pid: 200, or
// 503 when the event loop lags more than `maxLagMs` (default 70, toobusy's default).
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { num, sectionOf, str } from '../shared/options.js';

/** Event-loop lag: how late a 100 ms timer fires, smoothed (toobusy's measure). One per process. */
let lagMs = 0;
let probe: NodeJS.Timeout | undefined;
function startProbe(): void {
  if (probe) return;
  let expected = Date.now() + 100;
  probe = setInterval(() => {
    const now = Date.now();
    const late = Math.max(0, now - expected);
    lagMs = lagMs * 0.67 + late * 0.33;
    expected = now + 100;
  }, 100);
  probe.unref();
}

export function eventLoopLagMs(): number {
  return lagMs;
}

export function healthcheck(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'healthcheck',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'healthcheck', initConfig);
      const url = str(s, 'healthcheck', 'healthcheck_url', '/healthcheck');
      const maxLag = num(s, 'healthcheck', 'maxLagMs', 70, 1);
      startProbe();
      return {
        onRequest(ctx) {
          if (ctx.req.url !== url) return;
          const body = JSON.stringify({
            memoryUsage: process.memoryUsage(),
            cpuUsage: process.cpuUsage(),
            uptime: process.uptime(),
            pid: process.pid,
          });
          ctx.respond(lagMs > maxLag ? 503 : 200, body, { 'Content-Type': 'application/json' });
        },
      };
    },
  });
}
