// `apikeys`: API key only, from the header or the query parameter of the same name (reference §1.7).
import type { NativePlugin } from '@gatehouse/core';
import { createAuthPlugin } from '../auth/auth-plugin.js';
import type { GatewayPluginContext } from '../context.js';
import type { CachingVerifier } from '../verify/key-cache.js';

export const apikeys = (ctx: GatewayPluginContext, keys: CachingVerifier | undefined): NativePlugin =>
  createAuthPlugin('apikeys', ctx, keys);
