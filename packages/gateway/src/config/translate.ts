// An edgemicro config and the control plane's proxies, translated into core's native config: one
// server on `edgemicro.port` (TLS from `edgemicro.ssl`), one base-path route per proxy (core matches
// the longest base path on a segment boundary and forwards upstream path + remainder), one upstream
// per proxy (timeouts, pool size, `targets[].ssl.client`), edgemicro's header policy, limits, the
// egress proxy and the plugin sequence. Pure: no I/O beyond resolving file paths.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type {
  GatehouseConfig,
  HeaderSet,
  HeaderPolicy,
  LimitsConfig,
  MapConfig,
  RouteConfig,
  ServerConfig,
  ServerTlsConfig,
  UpstreamConfig,
  UpstreamTlsConfig,
} from '@gatehouse/core';
import { egressProxyFromEnv } from '@gatehouse/core/internal';
import type { EdgeProxy } from '../control-plane/types.js';
import { EdgemicroConfigError, type ConfigProblem } from './errors.js';
import type { EdgemicroSettings, SslOptions } from './validate.js';
import { gateName, isWildcard, parseWildcardBasePath } from '../runtime/wildcard-base-path.js';

export interface TranslateOptions {
  /** Port from `-r` / PORT, overriding `edgemicro.port`. */
  readonly port?: number;
  /** Directory relative file paths (ssl key/cert) resolve against (edgemicro: the working directory). */
  readonly baseDir: string;
  /** Plugin names of the route chain, in order (the sequence after analytics was prepended). */
  readonly plugins: readonly string[];
  /** Sent in `x-request-id` as `<uid>.<request id>` (edgemicro: a per-process uuid). */
  readonly uid?: string;
  /** Name of the error renderer to select (core's error-renderer slot), when the engine has it. */
  readonly errorRenderer?: string;
  /** Passed through untouched to core (`plugins.config`), read by the gateway's worker. */
  readonly pluginConfig?: Record<string, unknown>;
  readonly pluginDir?: string;
  /** Bound on a hook that never calls next. */
  readonly hookTimeoutMs?: number;
}

const DEFAULT_TARGET_TIMEOUT_MS = 60_000;

export function translate(
  settings: EdgemicroSettings,
  proxies: readonly EdgeProxy[],
  options: TranslateOptions,
): GatehouseConfig {
  const problems: ConfigProblem[] = [];
  const em = settings.edgemicro;
  const file = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : resolve(options.baseDir, p);

  const routes: RouteConfig[] = [];
  const upstreams: Record<string, UpstreamConfig> = {};
  const seen = new Map<string, string>();
  const headersOn = settings.headers;
  const setHeaders: HeaderSet[] = [
    // Never forwarded from clients: some backends (IIS, Symfony) route on them, walking around the
    // path the gateway authorised.
    { name: 'x-original-url', value: '' },
    { name: 'x-rewrite-url', value: '' },
  ];
  const maps: MapConfig[] = [];
  if (headersOn['x-forwarded-host']) {
    maps.push({
      source: '$http_x_forwarded_host',
      variable: 'emg_forwarded_host',
      entries: [{ key: '', value: '$http_host' }],
      default: '$http_x_forwarded_host, $http_host',
    });
    setHeaders.push({ name: 'x-forwarded-host', value: '$emg_forwarded_host' });
  }
  if (headersOn.via) {
    maps.push({
      source: '$http_via',
      variable: 'emg_via',
      entries: [{ key: '', value: '1.1 $host' }],
      default: '$http_via, 1.1 $host',
    });
    setHeaders.push({ name: 'via', value: '$emg_via' });
  }
  if (headersOn['x-request-id']) {
    const uid = options.uid ?? randomUUID();
    maps.push({
      source: '$http_x_request_id',
      variable: 'emg_request_id',
      entries: [{ key: '', value: `${uid}.$request_id` }],
      default: '$http_x_request_id',
    });
    setHeaders.push({ name: 'x-request-id', value: '$emg_request_id' });
  }

  const literalBases = proxies
    .filter((p) => !isWildcard(p.base_path))
    .map((p) => ({ name: p.name, base: normalBase(p.base_path) }));
  for (const p of proxies) {
    const where = `proxy "${p.name}"`;
    let gate: string | undefined;
    let base = normalBase(p.base_path);
    if (isWildcard(p.base_path)) {
      // Core routes on the literal part; the gate checks the glob. Where another proxy's base path
      // lies on either side of that literal part the two would have to be compared by edgemicro's
      // longest-string rule at request time, which this does not do: refused by name.
      const parsed = parseWildcardBasePath(p.base_path);
      const overlap =
        typeof parsed === 'string'
          ? undefined
          : literalBases.find(
              (o) =>
                o.base === '/' ||
                parsed.literal === '/' ||
                under(o.base, parsed.literal) ||
                under(parsed.literal, o.base),
            );
      if (typeof parsed === 'string' || overlap) {
        problems.push({
          key: `proxies.${p.name}.base_path`,
          message:
            typeof parsed === 'string'
              ? `${where}: base path "${p.base_path}": ${parsed}`
              : `${where}: wildcard base path "${p.base_path}" overlaps the base path "${overlap!.base}" of proxy "${overlap!.name}"; not supported`,
        });
        continue;
      }
      base = parsed.literal;
      gate = gateName(p.name);
    }
    const other = seen.get(base);
    if (other !== undefined) {
      problems.push({
        key: `proxies.${p.name}.base_path`,
        message: gate
          ? `${where}: wildcard base path "${p.base_path}" starts like a base path of proxy "${other}" ("${base}"); not supported`
          : `${where}: base path "${p.base_path}" is already used by proxy "${other}"`,
      });
      continue;
    }
    seen.set(base, p.name);
    let target: URL;
    try {
      target = new URL(p.url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push({
        key: `proxies.${p.name}.url`,
        message: `${where}: invalid target URL ${JSON.stringify(p.url)}`,
      });
      continue;
    }
    const upstreamName = `proxy:${p.name}`;
    const readTimeoutMs =
      p.timeout ?? (em.request_timeout !== undefined ? em.request_timeout * 1000 : DEFAULT_TARGET_TIMEOUT_MS);
    const tls = target.protocol === 'https:' ? targetTls(settings, target.hostname, file) : undefined;
    upstreams[upstreamName] = {
      url: p.url,
      readTimeoutMs,
      maxConnections: p.max_connections,
      ...(tls ? { tls } : {}),
    };
    routes.push({
      name: p.name,
      match: { basePath: base },
      action: {
        type: 'proxy',
        upstream: upstreamName,
        target: 'base_path',
        host: headersOn.host ? 'upstream' : 'preserve',
        setHeaders,
      },
      ...(gate || options.plugins.length
        ? { plugins: gate ? [gate, ...options.plugins] : [...options.plugins] }
        : {}),
    });
  }

  // edgemicro.plugins.excludeUrls is applied where the plugin chain is built (runtime/excluded-urls.ts);
  // a pattern that can match no path is a mistake said here.
  for (const url of em.plugins.excludeUrls)
    if (!url.startsWith('/') && !url.startsWith('*'))
      problems.push({
        key: 'config.edgemicro.plugins.excludeUrls',
        message: `"${url}": a path starting with "/" (or "*") is expected`,
      });

  const limits: LimitsConfig = { maxConnections: em.max_connections };
  if (em.keep_alive_timeout !== undefined) limits.keepAliveTimeoutMs = em.keep_alive_timeout;
  if (em.headers_timeout !== undefined) limits.headersTimeoutMs = em.headers_timeout;
  else if (em.keep_alive_timeout !== undefined) limits.headersTimeoutMs = em.keep_alive_timeout + 5000;
  if (em.maxHttpHeaderSize !== undefined) limits.maxHeaderSize = em.maxHttpHeaderSize;

  const headers: HeaderPolicy = {
    xForwardedFor: headersOn['x-forwarded-for'] ? 'append' : 'off',
    xForwardedProto: headersOn['x-forwarded-proto'] ? 'set' : 'off',
    xForwardedHost: 'off',
  };

  let tls: ServerTlsConfig | undefined;
  if (em.ssl) {
    const s = em.ssl;
    if (!s.pfx && !(s.key && s.cert))
      problems.push({ key: 'config.edgemicro.ssl', message: 'needs key and cert (or pfx)' });
    else {
      tls = {
        certificate: s.pfx
          ? { pfxFile: file(s.pfx)!, ...(s.passphrase ? { passphrase: s.passphrase } : {}) }
          : {
              certFile: file(s.cert)!,
              keyFile: file(s.key)!,
              ...(s.passphrase ? { passphrase: s.passphrase } : {}),
            },
        ...(s.ciphers ? { ciphers: s.ciphers } : {}),
        ...(s.requestCert
          ? {
              clientCertificate: {
                mode: s.rejectUnauthorized === false ? ('optional' as const) : ('required' as const),
                ...(s.ca ? { caFile: file(s.ca)! } : {}),
              },
            }
          : {}),
      };
    }
  }

  const server: ServerConfig & { errors?: string } = {
    name: 'edgemicro',
    listen: [
      {
        address: em.address ?? '0.0.0.0',
        port: options.port ?? em.port,
        ...(tls ? { tls: true, http2: false } : {}),
      },
    ],
    ...(tls ? { tls } : {}),
    routes,
    // edgemicro's x-response-time: milliseconds from the request's arrival to the target's response
    // head, on every proxied response (no plugin: the engine adds it where it adds `Via`).
    ...(headersOn['x-response-time']
      ? { addResponseHeaders: [{ name: 'x-response-time', value: '$request_time_ms' }] }
      : {}),
    ...(options.errorRenderer ? { errors: options.errorRenderer } : {}),
  };

  const config: GatehouseConfig = {
    servers: [server],
    upstreams,
    maps,
    limits,
    headers,
    log: { level: LOG_LEVELS[em.logging.level] },
  };
  if (em.proxy?.enabled) {
    // edgemicro: `url`, else HTTP(S)_PROXY; `bypass`, else NO_PROXY; `tunnel` in either case.
    const { url, tunnel, bypass } = em.proxy;
    const env = egressProxyFromEnv(process.env);
    config.egressProxy = {
      ...(url ? { http: url, https: url } : {}),
      ...(!url && env.http ? { http: env.http } : {}),
      ...(!url && env.https ? { https: env.https } : {}),
      noProxy: bypass
        ? bypass
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : (env.noProxy ?? []),
      ...(tunnel ? { tunnel: true } : {}),
    };
  }
  if (options.plugins.length || options.pluginConfig || routes.some((r) => r.plugins?.length))
    config.plugins = {
      dir: options.pluginDir ?? resolve(options.baseDir, 'plugins'),
      config: options.pluginConfig ?? {},
      ...(options.hookTimeoutMs !== undefined ? { hookTimeoutMs: options.hookTimeoutMs } : {}),
    };
  if (problems.length) throw new EdgemicroConfigError(problems);
  return config;
}

/** `/v1/` → `/v1`; `/` stays. */
function normalBase(basePath: string): string {
  return basePath.length > 1 ? basePath.replace(/\/+$/, '') : basePath;
}

/** `path` is `base` or below it, on a segment boundary. */
function under(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}

const LOG_LEVELS = {
  none: 'silent',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
} as const;

/** The last `targets` entry matching the host (or without a host) becomes the upstream's TLS settings. */
function targetTls(
  settings: EdgemicroSettings,
  hostname: string,
  file: (p: string | undefined) => string | undefined,
): UpstreamTlsConfig | undefined {
  let match: SslOptions | undefined;
  for (const t of settings.targets)
    if ((t.host === undefined || t.host === hostname) && t.ssl?.client) match = t.ssl.client;
  if (!match) return undefined;
  return {
    ...(match.rejectUnauthorized === false ? { verify: false } : {}),
    ...(match.ca ? { caFile: file(match.ca)! } : {}),
    ...(match.cert ? { certFile: file(match.cert)! } : {}),
    ...(match.key ? { keyFile: file(match.key)! } : {}),
    ...(match.passphrase ? { passphrase: match.passphrase } : {}),
    ...(match.servername ? { name: match.servername } : {}),
  };
}
