// `accumulate-request`: the request body reaches the next plugins' end hook (and the target) as one
// buffer (edgemicro's namesake). Bounded by `maxBytes` (default 10 MiB).
import { definePlugin, type NativePlugin, type PluginRequest } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { Accumulator } from '../shared/accumulator.js';
import { num, sectionOf } from '../shared/options.js';

export function accumulateRequest(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'accumulate-request',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'accumulate-request', initConfig);
      const acc = new Accumulator<PluginRequest>(
        num(s, 'accumulate-request', 'maxBytes', 10 * 1024 * 1024, 1),
      );
      return {
        onRequestData(ctx, chunk) {
          acc.add(ctx.req, chunk);
          return null;
        },
        onRequestEnd(ctx, data) {
          acc.add(ctx.req, data);
          return acc.take(ctx.req);
        },
      };
    },
  });
}
