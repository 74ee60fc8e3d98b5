// `header-uppercase` (edgemicro sample): numbers requests (x-foo-request-id/-start to the target,
// x-foo-response-id/-time to the client) and upper-cases request and response body chunks.
import { definePlugin, type NativePlugin } from '@gatehouse/core';

const upper = (data: Buffer | string | null): string | null =>
  data === null ? null : data.toString().toUpperCase();

export function headerUppercase(): NativePlugin {
  return definePlugin({
    name: 'header-uppercase',
    init() {
      let counter = 0;
      return {
        onRequest(ctx) {
          ctx.req.headers['x-foo-request-id'] = String(counter++);
          ctx.req.headers['x-foo-request-start'] = String(Date.now());
        },
        onResponse(ctx) {
          const h = ctx.req.headers;
          ctx.res.setHeader('x-foo-response-id', String(h['x-foo-request-id']));
          ctx.res.setHeader('x-foo-response-time', String(Date.now() - Number(h['x-foo-request-start'])));
        },
        onRequestData: (_ctx, chunk) => upper(chunk),
        onResponseData: (_ctx, chunk) => upper(chunk),
      };
    },
  });
}
