// `transform-uppercase`: upper-cases request and response bodies chunk by chunk (edgemicro sample).
import { definePlugin, type NativePlugin } from '@gatehouse/core';

const upper = (data: Buffer | string | null): Buffer | null =>
  data === null ? null : Buffer.from(data.toString().toUpperCase());

export function transformUppercase(): NativePlugin {
  return definePlugin({
    name: 'transform-uppercase',
    init: () => ({
      onRequestData: (_ctx, chunk) => upper(chunk),
      onRequestEnd: (_ctx, data) => upper(data),
      onResponseData: (_ctx, chunk) => upper(chunk),
      onResponseEnd: (_ctx, data) => upper(data),
    }),
  });
}
