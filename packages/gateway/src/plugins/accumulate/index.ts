// `accumulate-request` / `accumulate-response` (edgemicro's namesakes): one side's body reaches the
// next plugins' end hook (and the target or the client) as one buffer. Bounded by `maxBytes`
// (default 10 MiB). One factory; the side picks the hooks and the object the chunks belong to.
import { definePlugin, type NativePlugin, type PluginRequest, type PluginResponse } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { Accumulator } from '../shared/accumulator.js';
import { num, sectionOf } from '../shared/options.js';

export type AccumulateSide = 'request' | 'response';

export function accumulate(gctx: GatewayPluginContext, side: AccumulateSide): NativePlugin {
  const name = `accumulate-${side}`;
  return definePlugin({
    name,
    init(initConfig) {
      const s = sectionOf(gctx.config, name, initConfig);
      const acc = new Accumulator<PluginRequest | PluginResponse>(
        num(s, name, 'maxBytes', 10 * 1024 * 1024, 1),
      );
      const data = (owner: PluginRequest | PluginResponse, chunk: Buffer | string | null): null => {
        acc.add(owner, chunk);
        return null;
      };
      const end = (owner: PluginRequest | PluginResponse, chunk: Buffer | string | null): Buffer | null => {
        acc.add(owner, chunk);
        return acc.take(owner);
      };
      return side === 'request'
        ? {
            onRequestData: (ctx, chunk) => data(ctx.req, chunk),
            onRequestEnd: (ctx, last) => end(ctx.req, last),
          }
        : {
            onResponseData: (ctx, chunk) => data(ctx.res, chunk),
            onResponseEnd: (ctx, last) => end(ctx.res, last),
          };
    },
  });
}
