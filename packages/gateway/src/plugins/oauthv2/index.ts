// `oauthv2`: Bearer JWT only (reference §1.7).
import type { NativePlugin } from '@gatehouse/core';
import { createAuthPlugin } from '../auth/auth-plugin.js';
import type { GatewayPluginContext } from '../context.js';

export const oauthv2 = (ctx: GatewayPluginContext): NativePlugin =>
  createAuthPlugin('oauthv2', ctx, undefined);
