// The fields edgemicro's core puts on the request and response before the first hook.
import { parse as parseUrl, type UrlWithParsedQuery } from 'node:url';
import type { CompiledRoute, UpstreamTarget } from '../config/compile.js';
import type { PluginRequest, ProxyInfo } from './types.js';

const proxyInfos = new WeakMap<CompiledRoute, ProxyInfo>();

/** `res.proxy`: the matched route in edgemicro's proxy shape, made once per compiled route. */
export function proxyInfo(route: CompiledRoute, target: UpstreamTarget | undefined): ProxyInfo {
  let p = proxyInfos.get(route);
  if (!p) {
    const action = route.action;
    p = {
      name: route.name,
      base_path: route.prefix || '/',
      url: target ? target.origin + target.path : '',
      secure: target?.protocol === 'https:',
      timeout: action.type === 'proxy' ? action.options.readTimeoutMs : undefined,
    };
    proxyInfos.set(route, p);
  }
  return p;
}

/** Lazily computed `req.reqUrl` (most plugins never read it). */
export function defineReqUrl(req: PluginRequest): void {
  let cached: UrlWithParsedQuery | undefined;
  Object.defineProperty(req, 'reqUrl', {
    configurable: true,
    enumerable: true,
    get: () => (cached ??= parseUrl(req.url ?? '/', true)),
    set: (v: UrlWithParsedQuery) => {
      cached = v;
    },
  });
}
