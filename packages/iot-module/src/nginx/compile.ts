// Compile a parsed nginx configuration (the IoT Edge API proxy subset) into the engine's native
// config. Settings are inherited http → server → location as nginx merges them, so every route
// carries its effective values and the engine needs no notion of nginx inheritance.
import { dirname, resolve } from 'node:path';
import { acceptDirective, ACCEPTED_DIRECTIVES } from './accepted.js';
import type { NginxConfigAst, NginxDirective } from './ast.js';
import { CompileContext } from './context.js';
import { compileListen } from './listen.js';
import { compileLocation, parseLocationMatch, type LocationScope } from './location.js';
import { compileMap } from './maps.js';
import type {
  GatehouseConfig,
  ListenConfig,
  LogConfig,
  MapConfig,
  RouteConfig,
  ServerConfig,
} from './native-types.js';
import { compileServerTls } from './server-tls.js';
import { collectSettings, mergeSettings, type Settings } from './settings.js';
import { parseSize } from './units.js';
import { compileStatements } from './statements.js';

/** nginx 1.22's defaults: keepalive_timeout 75s (no Keep-Alive field), client_header_timeout,
 *  client_body_timeout and send_timeout 60s. */
const NGINX_DEFAULT_TIMEOUTS = {
  keepaliveMs: 75_000,
  clientHeaderMs: 60_000,
  clientBodyMs: 60_000,
  sendMs: 60_000,
} as const;

export interface CompileOptions {
  /** Directory that relative file paths (certificates, CA bundles) resolve against, like nginx's
   *  configuration prefix. Default: the directory of `ast.file`, resolved from the working directory. */
  confDir?: string;
  /** Request body limit where `client_max_body_size` is not set. Default 1048576 (nginx's 1m). */
  defaultMaxBodySize?: number;
  /** Host name → address map for upstream names (replaces nginx's `resolver`, e.g. Docker names). */
  hosts?: Record<string, string>;
  /** Address bound for nginx's wildcard listeners (`listen 8000`, `*:8000`, `0.0.0.0:8000`; also `[::]`
   *  when given). Default `0.0.0.0`. Layered set-ups on one host use a distinct 127.0.0.X per layer. */
  listenAddress?: string;
  /** Pool upstream connections (nginx closes them after each request). Default true. */
  upstreamKeepAlive?: boolean;
  /** Verify upstream certificates where `proxy_ssl_verify` is not set. Default false (nginx). */
  upstreamTlsVerify?: boolean;
}

export interface CompileResult {
  config: GatehouseConfig;
  /** Directives accepted without (exact) native equivalent, each naming file and lines. */
  notices: string[];
}

/** nginx's default `client_max_body_size`. */
export const NGINX_DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

const ERROR_LOG_LEVELS: Record<string, NonNullable<LogConfig['level']>> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  error: 'error',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
};

export function compile(ast: NginxConfigAst, options: CompileOptions = {}): CompileResult {
  const ctx = new CompileContext(ast.file);
  const compiler = new Compiler(ctx, {
    confDir: options.confDir ?? dirname(resolve(ast.file)),
    defaultMaxBodySize: options.defaultMaxBodySize ?? NGINX_DEFAULT_MAX_BODY_SIZE,
    listenAddress: options.listenAddress,
    upstreamKeepAlive: options.upstreamKeepAlive ?? true,
    upstreamTlsVerify: options.upstreamTlsVerify ?? false,
  });
  const config = compiler.main(ast.directives);
  if (options.hosts) config.hosts = { ...options.hosts };
  return { config, notices: ctx.notices() };
}

interface ResolvedOptions {
  confDir: string;
  defaultMaxBodySize: number;
  listenAddress: string | undefined;
  upstreamKeepAlive: boolean;
  upstreamTlsVerify: boolean;
}

class Compiler {
  private readonly log: LogConfig = {};

  constructor(
    private readonly ctx: CompileContext,
    private readonly opts: ResolvedOptions,
  ) {}

  main(directives: NginxDirective[]): GatehouseConfig {
    let http: NginxDirective | undefined;
    let events: NginxDirective | undefined;
    for (const d of directives) {
      if (d.name === 'http') {
        if (http) this.ctx.fail('"http" directive is duplicate', d);
        http = d;
      } else if (d.name === 'events') {
        if (events) this.ctx.fail('"events" directive is duplicate', d);
        events = d;
        for (const e of d.block ?? []) acceptDirective(this.ctx, e);
      } else if (d.name === 'error_log') {
        this.errorLog(d);
      } else if (ACCEPTED_DIRECTIVES.has(d.name)) {
        acceptDirective(this.ctx, d);
      }
    }
    // nginx refuses to start without an events block.
    if (!events) this.ctx.fail('no "events" section in configuration', { line: 1, column: 1 });
    const config: GatehouseConfig = {
      servers: [],
      // nginx adds no X-Forwarded-* / Forwarded headers unless configured with proxy_set_header.
      headers: { xForwardedFor: 'off', xForwardedProto: 'off', xForwardedHost: 'off', forwarded: false },
    };
    if (http) this.http(http, config);
    else this.ctx.notice('no "http" block: nothing is served', { line: 1, column: 1 });
    if (Object.keys(this.log).length > 0) config.log = this.log;
    return config;
  }

  private errorLog(d: NginxDirective): void {
    const level = d.args[1];
    if (level) {
      const mapped = ERROR_LOG_LEVELS[level.value];
      if (!mapped) this.ctx.fail(`invalid log level "${level.value}"`, level);
      this.log.level = mapped;
    } else {
      this.log.level = 'error';
    }
    this.logDestination(d);
  }

  private logDestination(d: NginxDirective): void {
    const dest = d.args[0]!.value;
    if (d.name === 'error_log' && !['stderr', '/dev/stderr', '/dev/stdout'].includes(dest)) {
      this.ctx.notice(`"error_log" destination "${dest}" is ignored: the engine logs to stdout`, d);
    }
  }

  private accessLog(d: NginxDirective): void {
    const dest = d.args[0]!.value;
    this.log.access = dest === 'off' ? false : dest === '/dev/stdout' || dest === 'stdout' ? true : dest;
    if (d.args.length > 1) this.ctx.notice('"access_log" format and parameters are ignored', d);
  }

  private http(http: NginxDirective, config: GatehouseConfig): void {
    const body = http.block ?? [];
    const settings = collectSettings(this.ctx, body);
    const maps: MapConfig[] = [];
    const zones = new Map<string, number>();
    const servers: NginxDirective[] = [];
    for (const d of body) {
      switch (d.name) {
        case 'map': {
          const map = compileMap(this.ctx, d);
          if (maps.some((m) => m.variable === map.variable)) {
            this.ctx.fail(`the duplicate "${map.variable}" variable`, d);
          }
          maps.push(map);
          break;
        }
        case 'proxy_cache_path':
          this.cachePath(d, zones);
          break;
        case 'server':
          servers.push(d);
          break;
        case 'error_log':
          this.errorLog(d);
          break;
        case 'access_log':
          this.accessLog(d);
          break;
        default:
          if (ACCEPTED_DIRECTIVES.has(d.name)) acceptDirective(this.ctx, d);
      }
    }
    if (maps.length > 0) config.maps = maps;
    for (const d of servers)
      config.servers.push(this.server(d, settings, maps, zones, config.servers.length));
    this.checkDefaultServers(config.servers, servers);
  }

  /** `proxy_cache_path path keys_zone=name:size [levels=…] [max_size=…] [inactive=…] …`. */
  private cachePath(d: NginxDirective, zones: Map<string, number>): void {
    let zone: string | undefined;
    for (const p of d.args.slice(1)) {
      const m = /^keys_zone=([^:]+):(.+)$/.exec(p.value);
      if (m) {
        const bytes = parseSize(m[2]!);
        if (bytes === undefined || bytes === 0) this.ctx.fail(`invalid keys zone size "${p.value}"`, p);
        if (zones.has(m[1]!)) this.ctx.fail(`duplicate zone "${m[1]}"`, p);
        zone = m[1]!;
        // nginx documents about 8000 keys per megabyte of keys zone.
        zones.set(zone, Math.max(1, Math.floor((bytes * 8000) / (1024 * 1024))));
      } else if (
        !/^(levels|use_temp_path|inactive|max_size|min_free|manager_files|manager_threshold|manager_sleep|loader_files|loader_threshold|loader_sleep|purger|purger_files|purger_threshold|purger_sleep)=/.test(
          p.value,
        )
      ) {
        this.ctx.fail(`invalid parameter "${p.value}"`, p);
      }
    }
    if (!zone) this.ctx.fail('"proxy_cache_path" must have "keys_zone" parameter', d);
    this.ctx.notice('"proxy_cache_path": the cache is kept in memory; path, levels and sizes are ignored', d);
  }

  private server(
    d: NginxDirective,
    httpSettings: Settings,
    maps: MapConfig[],
    zones: ReadonlyMap<string, number>,
    index: number,
  ): ServerConfig {
    const body = d.block ?? [];
    const settings = mergeSettings(httpSettings, collectSettings(this.ctx, body));
    const listens: Array<{ listen: ListenConfig; at: NginxDirective }> = [];
    const names: string[] = [];
    const locations: NginxDirective[] = [];
    for (const x of body) {
      switch (x.name) {
        case 'listen':
          listens.push({ listen: compileListen(this.ctx, x, this.opts.listenAddress), at: x });
          break;
        case 'server_name':
          for (const a of x.args) {
            if (a.value === '') continue;
            if (a.value.startsWith('~'))
              this.ctx.notice('regex "server_name" is not supported and never matches', a);
            names.push(a.value.toLowerCase());
          }
          break;
        case 'location':
          locations.push(x);
          break;
        case 'access_log':
        case 'error_log':
          this.ctx.notice(
            `"${x.name}" in a server block is ignored: logging is configured at the http level`,
            x,
          );
          break;
        default:
          if (ACCEPTED_DIRECTIVES.has(x.name)) acceptDirective(this.ctx, x);
      }
    }
    if (listens.length === 0) {
      this.ctx.notice('a server without "listen" listens on *:80, as nginx does', d);
      listens.push({ listen: { address: this.opts.listenAddress ?? '0.0.0.0', port: 80 }, at: d });
    }
    const server: ServerConfig = {
      name: `server${index}`,
      listen: dedupeListens(listens.map((l) => l.listen)),
      routes: [],
    };
    if (names.length > 0) server.serverNames = names;
    const tlsListen = listens.find((l) => l.listen.tls);
    if (tlsListen) server.tls = compileServerTls(this.ctx, settings, this.opts.confDir, tlsListen.at);
    const statements = compileStatements(this.ctx, body);
    if (statements.length > 0) server.rewrite = statements;

    const scope: LocationScope = {
      inherited: settings,
      serverStatements: statements,
      maps,
      zones,
      confDir: this.opts.confDir,
      defaultMaxBodySize: this.opts.defaultMaxBodySize,
      upstreamKeepAlive: this.opts.upstreamKeepAlive,
      upstreamTlsVerify: this.opts.upstreamTlsVerify,
    };
    const seen = new Set<string>();
    for (const loc of locations) {
      const route: RouteConfig = compileLocation(this.ctx, loc, scope);
      const { match } = parseLocationMatch(this.ctx, loc);
      const key = 'exact' in match ? `=${match.exact}` : 'prefix' in match ? `/${match.prefix}` : undefined;
      if (key !== undefined) {
        if (seen.has(key)) this.ctx.fail(`duplicate location "${key.slice(1)}"`, loc);
        seen.add(key);
      }
      server.routes.push(route);
    }
    // Where the configuration is silent, nginx's defaults, not the engine's.
    server.limits = {
      maxBodySize: settings.maxBodySize ?? this.opts.defaultMaxBodySize,
      keepAliveTimeoutMs: settings.keepaliveTimeoutMs ?? NGINX_DEFAULT_TIMEOUTS.keepaliveMs,
      keepAliveHeader: settings.keepaliveHeader ?? false,
      headersTimeoutMs: settings.headerTimeoutMs ?? NGINX_DEFAULT_TIMEOUTS.clientHeaderMs,
      clientBodyTimeoutMs: settings.bodyTimeoutMs ?? NGINX_DEFAULT_TIMEOUTS.clientBodyMs,
      sendTimeoutMs: settings.clientSendTimeoutMs ?? NGINX_DEFAULT_TIMEOUTS.sendMs,
      // nginx bounds a body only between two reads (client_body_timeout), never as a whole.
      requestTimeoutMs: 0,
    };
    return server;
  }

  /** nginx: one `default_server` per address:port. */
  private checkDefaultServers(servers: ServerConfig[], nodes: NginxDirective[]): void {
    const seen = new Set<string>();
    servers.forEach((s, i) => {
      for (const l of s.listen) {
        if (!l.defaultServer) continue;
        const key = `${l.address}:${l.port}`;
        if (seen.has(key)) this.ctx.fail(`a duplicate default server for ${key}`, nodes[i]!);
        seen.add(key);
      }
    });
  }
}

function dedupeListens(listens: ListenConfig[]): ListenConfig[] {
  const out = new Map<string, ListenConfig>();
  for (const l of listens) {
    const key = `${l.address}:${l.port}`;
    const prev = out.get(key);
    // nginx merges parameters of the same address:port across listen lines of one server.
    out.set(key, prev ? { ...prev, ...l } : l);
  }
  return [...out.values()];
}
