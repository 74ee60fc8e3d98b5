// `bauth` (edgemicro's namesake): requires `Authorization: Basic …`; sets req.username and
// req.password for later plugins and removes the header unless `keep-authorization-header`.
// It checks presence and form only; verifying the credentials is left to a later plugin, as in
// edgemicro.
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import { authError } from '../auth/errors.js';
import type { GatewayPluginContext } from '../context.js';
import { bool, sectionOf } from '../shared/options.js';

const BASIC = /^Basic ([A-Za-z0-9+/]+=*)$/;

export function bauth(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'bauth',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'bauth', initConfig);
      const keep = bool(s, 'bauth', 'keep-authorization-header', false);
      return {
        onRequest(ctx) {
          const { req } = ctx;
          const h = req.headers.authorization;
          if (!h) return authError(ctx, 'missing_authorization', 'Missing Authorization header');
          const m = BASIC.exec(h);
          const text = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
          const colon = text.indexOf(':');
          if (colon < 0) return authError(ctx, 'invalid_request', 'Invalid Authorization header');
          req.username = text.slice(0, colon);
          req.password = text.slice(colon + 1);
          if (!keep) delete req.headers.authorization;
        },
      };
    },
  });
}
