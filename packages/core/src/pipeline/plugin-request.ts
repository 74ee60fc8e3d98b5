// The fields edgemicro's core puts on the request and response before the first hook.
import { parse as parseUrl, type UrlWithParsedQuery } from 'node:url';
import type { CompiledRoute, UpstreamTarget } from '../config/compile.js';
import { H1Request } from '../server/h1/request.js';
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

const REQ_URL = Symbol('reqUrl');
type WithReqUrl = PluginRequest & { [REQ_URL]?: UrlWithParsedQuery };

/** `req.reqUrl`, computed on first access (most plugins never read it). */
const reqUrlProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: WithReqUrl) {
    return (this[REQ_URL] ??= parseUrl(this.url ?? '/', true));
  },
  set(this: WithReqUrl, v: UrlWithParsedQuery) {
    this[REQ_URL] = v;
  },
};

let onPrototype = false;

/** Our HTTP/1.1 requests get the accessor once, on their prototype; others per request. */
export function defineReqUrl(req: PluginRequest): void {
  if (req instanceof H1Request) {
    if (onPrototype) return;
    Object.defineProperty(H1Request.prototype, 'reqUrl', reqUrlProperty);
    onPrototype = true;
  } else Object.defineProperty(req, 'reqUrl', reqUrlProperty);
}

/** HookContext.setRequestHeader. */
export function putRequestField(req: PluginRequest, name: string, value: string | undefined): void {
  if (req instanceof H1Request) return req.putField(name, value);
  if (value === undefined) delete req.headers[name];
  else req.headers[name] = value;
}

/** The hooks may have edited `req.headers` (built for them), not only the field list. */
export function headersEdited(req: PluginRequest): boolean {
  return !(req instanceof H1Request) || req.headersBuilt;
}
