// edgemicro's `x-response-time` response header (`headers.x-response-time`, on by default):
// milliseconds from the request's arrival to the target's response head (reference §1.5). Core has no
// timing variable for response headers, so a one-hook plugin runs first in every route's chain, in
// the CLI's workers and in the microgateway-core-compatible factory alike.
import { definePlugin, type NativePlugin } from '@gatehouse/core';

export const RESPONSE_TIME_PLUGIN = 'gatehouse:x-response-time';

export const responseTimePlugin: NativePlugin = definePlugin({
  name: RESPONSE_TIME_PLUGIN,
  init: () => ({
    onResponse(ctx) {
      ctx.res.setHeader('x-response-time', String(Date.now() - ctx.req.reqStartTimestamp));
    },
  }),
});

/** The route chain: the response-time plugin first when the header is on, then `plugins`. */
export function withResponseTime(
  headers: Readonly<Record<string, boolean>>,
  plugins: readonly string[],
): string[] {
  return headers['x-response-time'] ? [RESPONSE_TIME_PLUGIN, ...plugins] : [...plugins];
}
