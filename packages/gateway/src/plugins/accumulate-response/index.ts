// `accumulate-response`: the response body reaches the earlier plugins' end hook (and the client)
// as one buffer (edgemicro's namesake). Bounded by `maxBytes` (default 10 MiB).
import { definePlugin, type NativePlugin, type PluginResponse } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { Accumulator } from '../shared/accumulator.js';
import { num, sectionOf } from '../shared/options.js';

export function accumulateResponse(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'accumulate-response',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'accumulate-response', initConfig);
      const acc = new Accumulator<PluginResponse>(
        num(s, 'accumulate-response', 'maxBytes', 10 * 1024 * 1024, 1),
      );
      return {
        onResponseData(ctx, chunk) {
          acc.add(ctx.res, chunk);
          return null;
        },
        onResponseEnd(ctx, data) {
          acc.add(ctx.res, data);
          return acc.take(ctx.res);
        },
      };
    },
  });
}
