// edgemicro's `x-response-time` response header: milliseconds from the request's arrival to the
// target's response head (reference §1.5). Core has no timing variable for response headers, so the
// compat gateway puts this one-hook plugin first in the chain when `headers.x-response-time` is on.
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
