// `accesscontrol` (edgemicro's namesake): `allow` and `deny` lists of IPv4 addresses (`*` for an
// octet) or exact IPv6 addresses, checked in the order the keys appear in the YAML; no match →
// `noRuleMatchAction` (allow|deny, default allow). Denied: 403 {"code":403,"message":"Forbidden"}.
// Unlike edgemicro, the client address is the socket's: X-Forwarded-For is client-written and
// would let anyone in; set `trustXForwardedFor: true` only behind a proxy that overwrites it.
import { definePlugin, type NativePlugin } from '@gatehouse/core';
import type { GatewayPluginContext } from '../context.js';
import { bool, PluginConfigError, sectionOf, str, strings } from '../shared/options.js';

type Rule = (ip: string) => boolean;

function compileEntry(entry: string): Rule {
  const octets = entry.split('.');
  if (octets.length === 4 && octets.every((o) => o === '*' || /^\d{1,3}$/.test(o))) {
    return (ip) => {
      const parts = ip.split('.');
      return parts.length === 4 && octets.every((o, i) => o === '*' || Number(o) === Number(parts[i]));
    };
  }
  const exact = entry.toLowerCase();
  return (ip) => ip.toLowerCase() === exact;
}

const FORBIDDEN = JSON.stringify({ code: 403, message: 'Forbidden' });

export function accesscontrol(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'accesscontrol',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'accesscontrol', initConfig);
      const noMatch = str(s, 'accesscontrol', 'noRuleMatchAction', 'allow');
      if (noMatch !== 'allow' && noMatch !== 'deny')
        throw new PluginConfigError('accesscontrol', 'noRuleMatchAction', '"allow" or "deny"');
      const trustXff = bool(s, 'accesscontrol', 'trustXForwardedFor', false);
      const lists = Object.keys(s)
        .filter((k) => k === 'allow' || k === 'deny')
        .map((k) => ({ allow: k === 'allow', rules: strings(s, 'accesscontrol', k).map(compileEntry) }));
      return {
        onRequest(ctx) {
          const { req } = ctx;
          let ip = req.socket.remoteAddress ?? '';
          const xff = req.headers['x-forwarded-for'];
          if (trustXff && typeof xff === 'string' && xff !== '') ip = xff.split(',')[0]!.trim();
          if (ip.startsWith('::ffff:')) ip = ip.slice(7);
          for (const l of lists)
            if (l.rules.some((r) => r(ip))) {
              if (l.allow) return;
              return ctx.respond(403, FORBIDDEN, { 'content-type': 'application/json' });
            }
          if (noMatch === 'deny') ctx.respond(403, FORBIDDEN, { 'content-type': 'application/json' });
        },
      };
    },
  });
}
