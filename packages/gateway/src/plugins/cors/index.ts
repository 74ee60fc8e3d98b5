// `cors` (edgemicro's namesake): OPTIONS is answered here (200, allow-origin/-methods/-headers and
// the non-standard Access-Control-Allow-Max-Age edgemicro sends); other requests get
// Access-Control-Allow-Origin. The origin is `cors-origin`, else the request's Origin echoed (none
// sent: no header, where edgemicro would throw).
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { sectionOf, str } from '../shared/options.js';

const METHODS = 'GET, PUT, POST, DELETE, PATCH, OPTIONS';
const HEADERS =
  'Origin, x-requested-with, Accept, Content-Type, Accept-Encoding, Accept-Language, Host, Pragma, Referrer, User-Agent, Cache-Control, Authorization, x-api-key';

export function cors(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'cors',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'cors', initConfig);
      const origin = str(s, 'cors', 'cors-origin');
      const methods = str(s, 'cors', 'cors-methods', METHODS);
      const headers = str(s, 'cors', 'cors-headers', HEADERS);
      const rawAge = s['cors-max-age'];
      const maxAge = rawAge === undefined || rawAge === null ? '3628800' : String(rawAge);
      return {
        onRequest(ctx) {
          const { req, res } = ctx;
          const o = origin ?? (typeof req.headers.origin === 'string' ? req.headers.origin : undefined);
          if (o !== undefined) res.setHeader('Access-Control-Allow-Origin', o);
          if (req.method === 'OPTIONS') {
            res.setHeader('Access-Control-Allow-Methods', methods);
            res.setHeader('Access-Control-Allow-Max-Age', maxAge);
            res.setHeader('Access-Control-Allow-Headers', headers);
            ctx.respond(200);
          }
        },
      };
    },
  });
}
