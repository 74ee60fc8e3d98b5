// Compile a validated config into an immutable runtime snapshot: routers, compiled templates and
// statements, resolved upstreams and merged limits. Everything the hot path needs is computed here.
import type {
  GatehouseConfig,
  HeaderPolicy,
  HeaderSet,
  LimitsConfig,
  ListenConfig,
  ProxyAction,
  RouteConfig,
  ServerConfig,
  Statement,
  UpstreamConfig,
} from './types.js';
import { ConfigError, type ConfigProblem } from './validate.js';
import type { PipelineRunner } from '../server/handler-deps.js';
import { BUILTIN_RENDERERS, DEFAULT_RENDERER, type ErrorRenderer } from '../errors/renderer.js';
import { Router } from '../routing/router.js';
import { compileStatements, type CompiledStatements } from '../routing/statements.js';
import {
  compileRegex,
  compileTemplate,
  namedGroups,
  TemplateError,
  type CompiledTemplate,
  type Getter,
  type VariableScope,
} from '../routing/variables.js';

export type ResolvedLimits = Required<LimitsConfig>;

const DEFAULT_LIMITS: ResolvedLimits = {
  maxConnections: 10_000,
  maxHeaderSize: 16_384,
  maxBodySize: 0,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  clientBodyTimeoutMs: 60_000,
  sendTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  keepAliveHeader: true,
  upgradeIdleTimeoutMs: 3_600_000,
  maxRequestsPerConnection: 0,
  minRequestDataRate: 240,
  minRequestDataRateGraceMs: 5_000,
  bodyBufferMemory: 16_384,
  bodyBufferMaxSize: 1_073_741_824,
};

interface CompiledHeader {
  name: string;
  lower: string;
  value: CompiledTemplate;
}

export interface UpstreamTarget {
  /** `http://host:port` — the pool key together with the options. */
  origin: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  /** The port, the scheme's default when the URL names none. */
  port: number;
  /** Host header value nginx would send: host[:port] as written in the URL. */
  hostHeader: string;
  /** Path part of the URL ('' when the URL has none). */
  path: string;
  /** Query part including `?`, or ''. */
  search: string;
  options: Omit<UpstreamConfig, 'url'>;
}

export interface CompiledProxy {
  type: 'proxy';
  /** Set for a named upstream or a constant URL. */
  upstream: UpstreamTarget | undefined;
  /** Set for a URL with variables. */
  upstreamTemplate: CompiledTemplate | undefined;
  /** Options applied to URLs computed from a template. */
  options: Omit<UpstreamConfig, 'url'>;
  target: NonNullable<ProxyAction['target']>;
  setHeaders: CompiledHeader[];
  /** Lower-cased names of `setHeaders`: the client's copies are dropped. */
  setHeaderNames: ReadonlySet<string>;
  host: 'preserve' | 'upstream' | CompiledTemplate;
  cache: { key: CompiledTemplate; validMs: number; maxEntries: number } | undefined;
  /** Upgrade protocols relayed (lower-case names without version); empty: none. */
  upgrade: ReadonlySet<string>;
  keepAlive: boolean;
  requestBuffering: boolean;
}

export interface CompiledReturn {
  type: 'return';
  status: number;
  body: CompiledTemplate | undefined;
  headers: CompiledHeader[];
}

export interface CompiledRoute {
  name: string;
  index: number;
  config: RouteConfig;
  /** Length of the matched prefix for replace_prefix / base_path targets. */
  prefix: string;
  internal: boolean;
  rewrite: CompiledStatements | undefined;
  action: CompiledProxy | CompiledReturn;
  maxBodySize: number;
  authRequest: { uri: string; set: Array<{ name: string; value: CompiledTemplate }> } | undefined;
  addResponseHeaders: CompiledHeader[];
  plugins: readonly string[];
  /** Renders this route's error answers (the route's renderer, else the server's). */
  errors: ErrorRenderer;
}

export interface CompiledServer {
  name: string;
  index: number;
  listen: ListenConfig[];
  serverNames: string[];
  config: ServerConfig;
  rewrite: CompiledStatements | undefined;
  router: Router<CompiledRoute>;
  routes: CompiledRoute[];
  limits: ResolvedLimits;
  addResponseHeaders: CompiledHeader[];
  /** `paths.refuseTrailingDots`. */
  refuseTrailingDots: boolean;
  /** Renders this server's error answers (before a route is chosen, and for routes without their own). */
  errors: ErrorRenderer;
  /** Request fields with `_` in their names are not forwarded (`underscoresInHeaders` off). */
  dropUnderscoreFields: boolean;
}

export interface Snapshot {
  readonly config: GatehouseConfig;
  readonly generation: number;
  readonly servers: CompiledServer[];
  readonly limits: ResolvedLimits;
  readonly headers: Required<Omit<HeaderPolicy, 'via'>> & { via: string | undefined };
  readonly hosts: ReadonlyMap<string, string>;
  /** Renders errors that belong to no server (the first server's renderer). */
  readonly errors: ErrorRenderer;
  /** Runs the plugins routes name; swapped together with the config. */
  readonly pipeline: PipelineRunner | undefined;
}

export interface CompileOptions {
  /** Error renderers by name, besides the built-in ones. */
  errorRenderers?: Readonly<Record<string, ErrorRenderer>>;
  /** The plugin pipeline of this config (its routes' plugins were validated against it). */
  pipeline?: PipelineRunner;
}

let generations = 0;

/** Compile a validated config; throws ConfigError naming the key path of each problem. */
export function compileConfig(
  config: GatehouseConfig,
  source?: string,
  options: CompileOptions = {},
): Snapshot {
  const problems: ConfigProblem[] = [];
  const renderer = (name: string | undefined, p: string): ErrorRenderer => {
    const key = name ?? DEFAULT_RENDERER;
    const own = options.errorRenderers;
    const found =
      (own && Object.hasOwn(own, key) ? own[key] : undefined) ??
      (Object.hasOwn(BUILTIN_RENDERERS, key) ? BUILTIN_RENDERERS[key] : undefined);
    if (typeof found === 'function') return found;
    problems.push({ path: p, message: `unknown error renderer "${key}"` });
    return BUILTIN_RENDERERS[DEFAULT_RENDERER]!;
  };
  const scope = buildScope(config, problems);
  const limits: ResolvedLimits = { ...DEFAULT_LIMITS, ...stripUndefined(config.limits) };
  const upstreams = new Map<string, UpstreamTarget>();
  for (const [name, u] of Object.entries(config.upstreams ?? {})) {
    const { url, ...options } = u;
    upstreams.set(name, resolveUpstream(url, options));
  }

  const servers = config.servers.map((s, si) => {
    const path = `servers[${si}]`;
    const guard = <T>(p: string, f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        problems.push({ path: p, message: (e as Error).message });
        return undefined;
      }
    };
    const router = new Router<CompiledRoute>({ ignoreCase: s.paths?.ignoreCase === true });
    const routes: CompiledRoute[] = [];
    const serverErrors = renderer(s.errors, `${path}.errors`);
    s.routes.forEach((r, ri) => {
      const rp = `${path}.routes[${ri}]`;
      const errors = r.errors === undefined ? serverErrors : renderer(r.errors, `${rp}.errors`);
      const route = guard(rp, () => compileRoute(r, ri, rp, scope, upstreams, errors));
      if (!route) return;
      const dup = router.add(r.match, route);
      if (dup) problems.push({ path: `${rp}.match`, message: dup });
      routes.push(route);
    });
    const compiled: CompiledServer = {
      name: s.name ?? `server${si}`,
      index: si,
      listen: s.listen,
      serverNames: (s.serverNames ?? []).map((n) => n.toLowerCase()),
      config: s,
      rewrite: s.rewrite?.length
        ? guard(`${path}.rewrite`, () => compileStatements(s.rewrite!, scope, `${path}.rewrite`))
        : undefined,
      router,
      routes,
      limits: { ...limits, ...stripUndefined(s.limits) },
      addResponseHeaders:
        guard(`${path}.addResponseHeaders`, () => compileHeaders(s.addResponseHeaders, scope)) ?? [],
      refuseTrailingDots: s.paths?.refuseTrailingDots === true,
      errors: serverErrors,
      dropUnderscoreFields: s.underscoresInHeaders !== true,
    };
    return compiled;
  });

  // An auth subrequest must name a location that exists in the same server.
  servers.forEach((s, si) =>
    s.routes.forEach((r) => {
      if (r.authRequest && !s.router.select(r.authRequest.uri))
        problems.push({
          path: `servers[${si}].routes[${r.index}].authRequest.uri`,
          message: `no route matches "${r.authRequest.uri}"`,
        });
    }),
  );

  if (problems.length) throw new ConfigError(problems, source);
  const h = config.headers ?? {};
  return {
    config,
    generation: ++generations,
    servers,
    limits,
    headers: {
      xForwardedFor: h.xForwardedFor ?? 'append',
      xForwardedProto: h.xForwardedProto ?? 'off',
      xForwardedHost: h.xForwardedHost ?? 'off',
      via: h.via,
      forwarded: h.forwarded ?? false,
    },
    hosts: new Map(Object.entries(config.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    errors: servers[0]?.errors ?? BUILTIN_RENDERERS[DEFAULT_RENDERER]!,
    pipeline: options.pipeline,
  };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Collect every variable the config defines, so unknown variables are config errors. */
function buildScope(config: GatehouseConfig, problems: ConfigProblem[]): VariableScope {
  const defined = new Set<string>();
  const maps = new Map<string, Getter>();
  const visit = (statements: Statement[] | undefined): void => {
    for (const s of statements ?? []) {
      if (s.type === 'set') defined.add(s.variable.replace(/^\$/, ''));
      if (s.type === 'rewrite') namedGroups(s.regex).forEach((n) => defined.add(n));
      if (s.type === 'if') {
        if (s.condition.type === 'matches') namedGroups(s.condition.regex).forEach((n) => defined.add(n));
        visit(s.then);
      }
    }
  };
  for (const s of config.servers) {
    visit(s.rewrite);
    for (const r of s.routes) {
      visit(r.rewrite);
      if ('regex' in r.match) namedGroups(r.match.regex).forEach((n) => defined.add(n));
      for (const a of r.authRequest?.set ?? []) defined.add(a.variable.replace(/^\$/, ''));
    }
  }
  const scope: VariableScope = { defined, maps };
  // Maps may refer to each other and to set variables: declare all names, then compile the values.
  for (const m of config.maps ?? []) defined.add(m.variable.replace(/^\$/, ''));
  (config.maps ?? []).forEach((m, i) => {
    const name = m.variable.replace(/^\$/, '');
    try {
      const source = compileTemplate(m.source, scope);
      const exact = new Map((m.entries ?? []).map((e) => [e.key, compileTemplate(e.value, scope)]));
      const regexes = (m.regexEntries ?? []).map((e) => ({
        re: compileRegex(e.regex, e.caseInsensitive),
        value: compileTemplate(e.value, scope),
      }));
      const fallback = m.default === undefined ? undefined : compileTemplate(m.default, scope);
      defined.delete(name);
      maps.set(name, (src) => {
        const key = source.evaluate(src);
        const hit = exact.get(key);
        if (hit) return hit.evaluate(src);
        for (const r of regexes) {
          const match = r.re.exec(key);
          if (match) {
            const saved = src.captures;
            src.captures = match;
            const v = r.value.evaluate(src);
            src.captures = saved;
            return v;
          }
        }
        return fallback ? fallback.evaluate(src) : '';
      });
    } catch (e) {
      problems.push({ path: `maps[${i}]`, message: (e as Error).message });
    }
  });
  return scope;
}

function compileHeaders(headers: HeaderSet[] | undefined, scope: VariableScope): CompiledHeader[] {
  return (headers ?? []).map((h) => ({
    name: h.name,
    lower: h.name.toLowerCase(),
    value: compileTemplate(h.value, scope),
  }));
}

export function resolveUpstream(url: string, options: Omit<UpstreamConfig, 'url'>): UpstreamTarget {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TemplateError(`unsupported scheme in "${url}"`, url);
  const defaultPort = u.protocol === 'https:' ? '443' : '80';
  const port = u.port || defaultPort;
  // Path, query and host are taken from the string as written: the URL parser would resolve dot
  // segments and lower-case the host, and nginx sends both verbatim.
  const start = url.indexOf('//') + 2;
  const slash = url.indexOf('/', start);
  const question = url.indexOf('?', start);
  const authorityEnd = [slash, question, url.length].filter((i) => i !== -1).reduce((a, b) => Math.min(a, b));
  const authority = url.slice(start, authorityEnd).replace(/^[^@]*@/, '');
  const rest = url.slice(authorityEnd).replace(/#.*$/, '');
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  return {
    origin: `${u.protocol}//${u.hostname}:${port}`,
    protocol: u.protocol,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(port),
    hostHeader: authority,
    path: path === '' && q !== -1 ? '/' : path,
    search: q === -1 ? '' : rest.slice(q),
    options,
  };
}

function compileRoute(
  r: RouteConfig,
  index: number,
  path: string,
  scope: VariableScope,
  upstreams: Map<string, UpstreamTarget>,
  errors: ErrorRenderer,
): CompiledRoute {
  const m = r.match;
  const prefix =
    'basePath' in m ? m.basePath.replace(/\/+$/, '') : 'prefix' in m ? m.prefix : 'exact' in m ? m.exact : '';
  const name =
    r.name ??
    ('basePath' in m ? m.basePath : 'exact' in m ? `=${m.exact}` : 'prefix' in m ? m.prefix : `~${m.regex}`);
  let action: CompiledProxy | CompiledReturn;
  if (r.action.type === 'return') {
    action = {
      type: 'return',
      status: r.action.status,
      body: r.action.body === undefined ? undefined : compileTemplate(r.action.body, scope),
      headers: compileHeaders(r.action.headers, scope),
    };
  } else {
    const a = r.action;
    const named = upstreams.get(a.upstream);
    const options = a.options ?? {};
    let upstream: UpstreamTarget | undefined;
    let upstreamTemplate: CompiledTemplate | undefined;
    if (named) upstream = { ...named, options: { ...named.options, ...stripUndefined(a.options) } };
    else {
      const tpl = compileTemplate(a.upstream, scope);
      if (tpl.constant !== undefined) upstream = resolveUpstream(tpl.constant, options);
      else upstreamTemplate = tpl;
    }
    const setHeaders = compileHeaders(a.setHeaders, scope);
    action = {
      type: 'proxy',
      upstream,
      upstreamTemplate,
      options,
      target: a.target ?? ('basePath' in m ? 'base_path' : 'request_uri'),
      setHeaders,
      setHeaderNames: new Set(setHeaders.map((h) => h.lower)),
      host:
        a.host === undefined || a.host === 'upstream'
          ? 'upstream'
          : a.host === 'preserve'
            ? 'preserve'
            : compileTemplate(a.host.template, scope),
      cache: a.cache
        ? {
            key: compileTemplate(a.cache.key, scope),
            validMs: a.cache.validMs,
            maxEntries: a.cache.maxEntries ?? 1000,
          }
        : undefined,
      upgrade: new Set(
        a.upgrade === false
          ? []
          : a.upgrade === undefined || a.upgrade === true
            ? ['websocket']
            : a.upgrade.map((t) => t.toLowerCase()),
      ),
      keepAlive: a.keepAlive ?? true,
      requestBuffering: a.requestBuffering ?? true,
    };
  }
  return {
    name,
    index,
    config: r,
    prefix,
    internal: r.internal === true,
    rewrite: r.rewrite?.length ? compileStatements(r.rewrite, scope, `${path}.rewrite`) : undefined,
    action,
    maxBodySize: r.maxBodySize ?? -1,
    authRequest: r.authRequest
      ? {
          uri: r.authRequest.uri,
          set: (r.authRequest.set ?? []).map((s) => ({
            name: s.variable.replace(/^\$/, ''),
            value: compileTemplate(s.value, scope),
          })),
        }
      : undefined,
    addResponseHeaders: compileHeaders(r.addResponseHeaders, scope),
    plugins: r.plugins ?? [],
    errors,
  };
}
