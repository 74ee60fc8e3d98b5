// `oauth`: Bearer JWT or API key (reference §1.7, §4.5–§4.9).
import type { NativePlugin } from '@gatehouse/core';
import { createAuthPlugin } from '../auth/auth-plugin.js';
import type { GatewayPluginContext } from '../context.js';
import type { CachingVerifier } from '../verify/key-cache.js';

export const oauth = (ctx: GatewayPluginContext, keys: CachingVerifier | undefined): NativePlugin =>
  createAuthPlugin('oauth', ctx, keys);
