// `location [=|^~|~|~*] pattern { … }` → a native route: its match, rewrite statements, and a proxy
// (or return) action with nginx's inherited settings resolved.
import { acceptDirective, ACCEPTED_DIRECTIVES } from './accepted.js';
import type { NginxArg, NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type {
  HeaderSet,
  MapConfig,
  ProxyAction,
  RouteAction,
  RouteConfig,
  RouteMatch,
  Statement,
  UpstreamTlsConfig,
} from './native-types.js';
import { fileRef } from './paths.js';
import { proxyTarget, type VariableValues } from './proxy-target.js';
import { collectSettings, mergeSettings, type Settings } from './settings.js';
import { compileStatements } from './statements.js';

export interface LocationScope {
  /** http + server settings, already merged. */
  inherited: Settings;
  serverStatements: Statement[];
  maps: MapConfig[];
  /** Declared proxy_cache_path zones → max entries. */
  zones: ReadonlyMap<string, number>;
  confDir: string;
  defaultMaxBodySize: number;
  upstreamKeepAlive: boolean;
  upstreamTlsVerify: boolean;
}

/** nginx's `$scheme$proxy_host$request_uri`, the default proxy_cache_key. */
const DEFAULT_CACHE_KEY = '$scheme$proxy_host$request_uri';

export function parseLocationMatch(
  ctx: CompileContext,
  d: NginxDirective,
): { match: RouteMatch; kind: 'exact' | 'prefix' | 'regex' } {
  let modifier = '';
  let pattern: NginxArg;
  if (d.args.length === 2) {
    modifier = d.args[0]!.value;
    pattern = d.args[1]!;
    if (!['=', '^~', '~', '~*'].includes(modifier)) {
      ctx.fail(`invalid location modifier "${modifier}"`, d.args[0]!);
    }
  } else {
    const a = d.args[0]!;
    const m = a.quote ? null : /^(=|\^~|~\*|~)/.exec(a.value);
    modifier = m ? m[1]! : '';
    pattern = { ...a, value: a.value.slice(modifier.length) };
  }
  const name = pattern.value;
  if (name === '') ctx.fail('missing location name', d);
  if (modifier === '' && name.startsWith('@'))
    ctx.fail(`named locations are not supported: "${name}"`, pattern);
  switch (modifier) {
    case '=':
      return { match: { exact: name }, kind: 'exact' };
    case '^~':
      return { match: { prefix: name, stopRegex: true }, kind: 'prefix' };
    case '~':
    case '~*': {
      const caseInsensitive = modifier === '~*';
      const regex = ctx.regex(name, caseInsensitive, pattern);
      return { match: caseInsensitive ? { regex, caseInsensitive } : { regex }, kind: 'regex' };
    }
    default:
      return { match: { prefix: name }, kind: 'prefix' };
  }
}

export function compileLocation(ctx: CompileContext, d: NginxDirective, scope: LocationScope): RouteConfig {
  const { match, kind } = parseLocationMatch(ctx, d);
  const body = d.block ?? [];
  const s = mergeSettings(scope.inherited, collectSettings(ctx, body));
  const statements = compileStatements(ctx, body);

  let proxyPass: NginxDirective | undefined;
  let internal = false;
  for (const x of body) {
    if (x.name === 'proxy_pass') {
      if (proxyPass) ctx.fail('"proxy_pass" directive is duplicate', x);
      proxyPass = x;
    } else if (x.name === 'internal') {
      internal = true;
    } else if (x.name === 'access_log' || x.name === 'error_log') {
      ctx.notice(`"${x.name}" in a location is ignored: logging is configured at the http level`, x);
    } else if (x.name === 'client_body_timeout' || x.name === 'send_timeout') {
      ctx.notice(`"${x.name}" in a location is ignored: the engine applies it per server`, x);
    } else if (ACCEPTED_DIRECTIVES.has(x.name)) {
      acceptDirective(ctx, x);
    }
  }

  const route: RouteConfig = {
    name: `location ${d.args.map((a) => a.value).join(' ')}`,
    match,
    action: { type: 'return', status: 404 },
    maxBodySize: s.maxBodySize ?? scope.defaultMaxBodySize,
  };
  if (internal) route.internal = true;

  let action: RouteAction;
  if (proxyPass) {
    const values = variableValues(statements, scope.serverStatements, scope.maps);
    action = proxyAction(ctx, proxyPass, kind, s, values, scope);
  } else {
    const last = statements[statements.length - 1];
    if (last?.type === 'return') {
      // An unconditional final `return` is the location's answer.
      statements.pop();
      action = { ...last };
    } else {
      action = { type: 'return', status: 404 };
      if (!statements.some((st) => st.type === 'return' || st.type === 'rewrite')) {
        ctx.notice('a location without "proxy_pass" answers 404 (Gatehouse serves no static files)', d);
      }
    }
  }
  route.action = action;
  if (statements.length > 0) route.rewrite = statements;

  if (s.authRequest) {
    route.authRequest = s.authRequestSet
      ? { uri: s.authRequest, set: s.authRequestSet }
      : { uri: s.authRequest };
  }
  if (s.addHeaders && s.addHeaders.length > 0) {
    route.addResponseHeaders = s.addHeaders.map(({ name, value, always }) => {
      if (always) ctx.notice('the "always" parameter of "add_header" is not supported and is ignored', d);
      return { name, value };
    });
  }
  return route;
}

/** Values a variable may take: its `set` statements (server and location) and its `map`. */
function variableValues(location: Statement[], server: Statement[], maps: MapConfig[]): VariableValues {
  const sets = new Map<string, string[]>();
  const walk = (list: Statement[]): void => {
    for (const st of list) {
      if (st.type === 'set') {
        const name = st.variable.replace(/^\$/, '');
        sets.set(name, [...(sets.get(name) ?? []), st.value]);
      } else if (st.type === 'if') walk(st.then);
    }
  };
  walk(server);
  walk(location);
  return (name) => {
    const fromSet = sets.get(name);
    if (fromSet) return fromSet;
    const map = maps.find((m) => m.variable.replace(/^\$/, '') === name);
    if (!map) return undefined;
    return [
      ...(map.entries ?? []).map((e) => e.value),
      ...(map.regexEntries ?? []).map((e) => e.value),
      map.default ?? '',
    ];
  };
}

function proxyAction(
  ctx: CompileContext,
  d: NginxDirective,
  kind: 'exact' | 'prefix' | 'regex',
  s: Settings,
  values: VariableValues,
  scope: LocationScope,
): ProxyAction {
  const url = d.args[0]!;
  const target = proxyTarget(ctx, url, kind, values);
  const action: ProxyAction = { type: 'proxy', upstream: url.value, target: target.mode };

  // proxy_set_header: Host and the WebSocket idiom have typed native fields.
  const headers: HeaderSet[] = [];
  let upgradeHeader: HeaderSet | undefined;
  let connectionHeader: HeaderSet | undefined;
  for (const h of s.proxySetHeaders ?? []) {
    const lower = h.name.toLowerCase();
    if (lower === 'host') action.host = { template: h.value };
    else if (lower === 'upgrade') upgradeHeader = h;
    else if (lower === 'connection') connectionHeader = h;
    else headers.push(h);
  }
  const http11 = s.proxyHttpVersion === '1.1';
  // nginx tunnels WebSockets only with HTTP/1.1 and `Upgrade $http_upgrade` + `Connection upgrade`.
  const websocket =
    http11 &&
    upgradeHeader?.value === '$http_upgrade' &&
    connectionHeader !== undefined &&
    /upgrade/i.test(connectionHeader.value);
  action.upgrade = websocket;
  if (!websocket) {
    if (upgradeHeader) headers.push(upgradeHeader);
    // `Connection ""` is nginx's idiom for upstream keep-alive, which the engine manages itself.
    if (connectionHeader && connectionHeader.value !== '') headers.push(connectionHeader);
  }
  if (headers.length > 0) action.setHeaders = headers;
  // nginx's default (on) is stated, so the engine's own default does not apply.
  action.requestBuffering = s.requestBuffering ?? true;
  // proxy_http_version defaults to 1.0 in nginx: no keep-alive then.
  if (!http11 || !scope.upstreamKeepAlive) action.keepAlive = false;

  const options: NonNullable<ProxyAction['options']> = {};
  if (s.connectTimeoutMs !== undefined) options.connectTimeoutMs = s.connectTimeoutMs;
  if (s.readTimeoutMs !== undefined) options.readTimeoutMs = s.readTimeoutMs;
  if (s.sendTimeoutMs !== undefined) options.sendTimeoutMs = s.sendTimeoutMs;
  if (target.scheme !== 'http') options.tls = upstreamTls(ctx, s, d, scope);
  if (Object.keys(options).length > 0) action.options = options;

  const cache = s.cache;
  if (cache) {
    const maxEntries = scope.zones.get(cache.zone);
    if (maxEntries === undefined) ctx.fail(`"proxy_cache" zone "${cache.zone}" is unknown`, cache.at);
    const validity = s.cacheValid ?? [];
    if (validity.length === 0) {
      ctx.notice('"proxy_cache" without "proxy_cache_valid" caches nothing in Gatehouse', cache.at);
    } else {
      const any = validity.find((v) => v.codes.includes('any'));
      const chosen = any ?? validity[0]!;
      if (!any || validity.length > 1) {
        ctx.notice(
          '"proxy_cache_valid" per status is not supported: one validity applies to every status',
          chosen.at,
        );
      }
      action.cache = { key: s.cacheKey ?? DEFAULT_CACHE_KEY, validMs: chosen.ms, maxEntries };
    }
  }
  return action;
}

function upstreamTls(
  ctx: CompileContext,
  s: Settings,
  d: NginxDirective,
  scope: LocationScope,
): UpstreamTlsConfig {
  // nginx defaults: no verification, no SNI; state both so the engine's defaults do not apply.
  const tls: UpstreamTlsConfig = {
    verify: s.proxySslVerify ?? scope.upstreamTlsVerify,
    serverName: s.proxySslServerName ?? false,
  };
  if (s.proxySslName) tls.name = s.proxySslName.value;
  if (s.proxySslTrustedCertificate !== undefined) {
    const ref = fileRef(s.proxySslTrustedCertificate, scope.confDir);
    if ('file' in ref) tls.caFile = ref.file;
    else tls.ca = ref.inline;
  } else if (s.proxySslVerify === true) {
    ctx.fail('no proxy_ssl_trusted_certificate for proxy_ssl_verify', d);
  }
  if (s.proxySslVerifyDepth !== undefined) tls.verifyDepth = s.proxySslVerifyDepth;
  if (s.proxySslCertificate !== undefined) {
    if (s.proxySslCertificateKey === undefined) {
      ctx.fail(`no "proxy_ssl_certificate_key" is defined for certificate "${s.proxySslCertificate}"`, d);
    }
    const cert = fileRef(s.proxySslCertificate, scope.confDir);
    const key = fileRef(s.proxySslCertificateKey, scope.confDir);
    if ('file' in cert) tls.certFile = cert.file;
    else tls.cert = cert.inline;
    if ('file' in key) tls.keyFile = key.file;
    else tls.key = key.inline;
  }
  return tls;
}
