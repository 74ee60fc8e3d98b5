// Validate an edgemicro config (after env tags are replaced) against the keys of reference §1.3–§1.6,
// with edgemicro's message style (`config.edgemicro.port is not defined`). Unknown keys are reported
// by name, never ignored. Produces the typed view the translation reads.
import { EdgemicroConfigError, type ConfigProblem } from './errors.js';
import { keyLine, type YamlDocument } from './yaml-file.js';

type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface SslOptions {
  key?: string;
  cert?: string;
  pfx?: string;
  passphrase?: string;
  ca?: string;
  ciphers?: string;
  rejectUnauthorized?: boolean;
  requestCert?: boolean;
  secureProtocol?: string;
  servername?: string;
  crl?: string;
}

/** The parts of an edgemicro config the runtime reads, typed and checked. */
export interface EdgemicroSettings {
  readonly edgeConfig: {
    bootstrap?: string;
    jwt_public_key?: string;
    products?: string;
    jwk_public_keys?: string;
    proxyPattern?: string;
  };
  readonly edgemicro: {
    port: number;
    address?: string;
    max_connections: number;
    config_change_poll_interval: number;
    disable_config_poll_interval: boolean;
    keep_alive_timeout?: number;
    headers_timeout?: number;
    request_timeout?: number;
    maxHttpHeaderSize?: number;
    logging: {
      level: LogLevel;
      dir?: string;
      to_console: boolean;
      rotate_interval: number;
      /** Log files 0755 instead of 0600 (edgemicro's switch for shippers running as another user). */
      disableStrictLogFile: boolean;
    };
    plugins: { dir?: string; sequence: string[]; excludeUrls: string[] };
    ssl?: SslOptions;
    proxy?: { enabled: boolean; url?: string; tunnel?: boolean; bypass?: string };
    proxies?: string[];
    enableAnalytics: boolean;
  };
  readonly headers: Record<string, boolean>;
  readonly targets: Array<{ host?: string; ssl?: { client?: SslOptions } }>;
}

const SECTIONS_BUILTIN = [
  'edge_config',
  'edgemicro',
  'headers',
  'targets',
  'analytics',
  'quota',
  'quotas',
  'oauth',
  'oauthv2',
  'apikeys',
  'spikearrest',
  'cors',
  'healthcheck',
  'accesscontrol',
  'extauth',
  'bauth',
  'json2xml',
  'monitor',
  'metrics',
  'invalidHeader',
  'accumulate-request',
  'accumulate-response',
  'quota-memory',
  'header-uppercase',
  'transform-uppercase',
  'cloud-foundry-route-service',
  // Written by edgemicro itself into caches and merged configs.
  'agent',
  'keys',
  'uid',
  'global',
  'proxies',
  'product_to_proxy',
  'product_to_api_resource',
  'product_to_scopes',
];

const EDGE_CONFIG_KEYS = [
  'bootstrap',
  'jwt_public_key',
  'products',
  'jwk_public_keys',
  'quotaUri',
  'proxyPattern',
  'tlsOptions',
  'retry_interval',
  'refresh_interval',
  'managementUri',
  'authUri',
  'baseUri',
  'vaultName',
  'bootstrapMessage',
  'keySecretMessage',
  'redisBasedConfigCache',
  'synchronizerMode',
  'extauth_jwk_public_keys',
];
const EDGEMICRO_KEYS = [
  'port',
  'address',
  'max_connections',
  'max_connections_hard',
  'config_change_poll_interval',
  'disable_config_poll_interval',
  'keep_alive_timeout',
  'headers_timeout',
  'request_timeout',
  'nodelay',
  'maxHttpHeaderSize',
  'logging',
  'plugins',
  'ssl',
  'proxy',
  'proxies',
  'global',
  'enableAnalytics',
  'logTargetErrorsAs',
  'redisHost',
  'redisPort',
  'redisDb',
  'redisPassword',
  'useMetrics',
];
const LOGGING_KEYS = [
  'level',
  'dir',
  'to_console',
  'rotate_interval',
  'stats_log_interval',
  'stack_trace',
  'disableStrictLogFile',
];
const PLUGINS_KEYS = ['dir', 'sequence', 'excludeUrls', 'disableExcUrlsCache'];
const SSL_KEYS = [
  'key',
  'cert',
  'pfx',
  'passphrase',
  'ca',
  'ciphers',
  'rejectUnauthorized',
  'requestCert',
  'secureProtocol',
  'servername',
  'crl',
];
const PROXY_KEYS = ['enabled', 'url', 'tunnel', 'bypass'];
const HEADER_KEYS = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
  'x-response-time',
  'via',
  'host',
];
const LEVELS: LogLevel[] = ['none', 'error', 'warn', 'info', 'debug', 'trace'];
/** Keys edgemicro has and Gatehouse refuses to run with, with why. */
const UNSUPPORTED: Record<string, string> = {
  'edge_config.redisBasedConfigCache':
    'the Redis config cache is not supported; the cache file is used when Edge is down',
  'edge_config.synchronizerMode': 'the Redis synchronizer is not supported',
  'edgemicro.on_target_response_abort':
    'not supported: an aborted target response always cuts the client connection',
  'edgemicro.enable_GET_req_body': 'not supported',
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate; throws EdgemicroConfigError listing every problem with its key, file and line. */
export function validateEdgemicroConfig(
  config: Obj,
  doc: Pick<YamlDocument, 'file' | 'text'>,
  options: { customPluginNames?: readonly string[] } = {},
): EdgemicroSettings {
  const problems: ConfigProblem[] = [];
  const fail = (path: string[], message: string): void => {
    problems.push({
      key: ['config', ...path].join('.'),
      message,
      file: doc.file,
      line: keyLine(doc.text, path),
    });
  };
  const unknownKeys = (v: Obj, path: string[], keys: readonly string[]): void => {
    for (const k of Object.keys(v)) {
      const full = [...path, k].join('.');
      if (UNSUPPORTED[full]) fail([...path, k], UNSUPPORTED[full]);
      else if (!keys.includes(k)) fail([...path, k], `unknown key (supported: ${keys.join(', ')})`);
    }
  };
  const section = (v: unknown, path: string[]): Obj => {
    if (v === undefined || v === null) return {};
    if (!isObj(v)) {
      fail(path, 'expected a mapping');
      return {};
    }
    return v;
  };
  const num = (v: unknown, path: string[], opts: { min?: number; max?: number; required?: boolean } = {}) => {
    if (v === undefined || v === null) {
      if (opts.required) fail(path, 'is not defined');
      return undefined;
    }
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      (opts.min ?? -Infinity) > v ||
      v > (opts.max ?? Infinity)
    ) {
      fail(
        path,
        `invalid value: ${JSON.stringify(v)}${opts.min !== undefined ? ` (expected a number ≥ ${opts.min}${opts.max !== undefined ? ` and ≤ ${opts.max}` : ''})` : ''}`,
      );
      return undefined;
    }
    return v;
  };
  const str = (v: unknown, path: string[]): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') {
      fail(path, `invalid value: ${JSON.stringify(v)} (expected a non-empty string)`);
      return undefined;
    }
    return v;
  };
  const bool = (v: unknown, path: string[], dflt: boolean): boolean => {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      fail(path, `invalid value: ${JSON.stringify(v)} (expected true or false)`);
      return dflt;
    }
    return v;
  };
  const ssl = (v: unknown, path: string[]): SslOptions | undefined => {
    if (v === undefined || v === null) return undefined;
    const o = section(v, path);
    unknownKeys(o, path, SSL_KEYS);
    const out: SslOptions = {};
    for (const k of [
      'key',
      'cert',
      'pfx',
      'passphrase',
      'ca',
      'ciphers',
      'secureProtocol',
      'servername',
      'crl',
    ] as const) {
      const s = str(o[k], [...path, k]);
      if (s !== undefined) out[k] = s;
    }
    if (o.rejectUnauthorized !== undefined)
      out.rejectUnauthorized = bool(o.rejectUnauthorized, [...path, 'rejectUnauthorized'], true);
    if (o.requestCert !== undefined) out.requestCert = bool(o.requestCert, [...path, 'requestCert'], false);
    return out;
  };

  const sequenceRaw =
    isObj(config.edgemicro) && isObj(config.edgemicro.plugins)
      ? config.edgemicro.plugins.sequence
      : undefined;
  const sequence: string[] = [];
  if (sequenceRaw !== undefined && sequenceRaw !== null) {
    if (!Array.isArray(sequenceRaw) || sequenceRaw.some((s) => typeof s !== 'string' || s === ''))
      fail(['edgemicro', 'plugins', 'sequence'], 'expected a list of plugin names');
    else sequence.push(...(sequenceRaw as string[]));
  }
  const pluginSections = new Set([...sequence, ...(options.customPluginNames ?? [])]);
  for (const k of Object.keys(config))
    if (!SECTIONS_BUILTIN.includes(k) && !pluginSections.has(k))
      fail([k], 'unknown section (neither an edgemicro section nor a plugin in edgemicro.plugins.sequence)');

  const ec = section(config.edge_config, ['edge_config']);
  unknownKeys(ec, ['edge_config'], EDGE_CONFIG_KEYS);
  const edgeConfig: EdgemicroSettings['edgeConfig'] = {};
  for (const k of ['bootstrap', 'jwt_public_key', 'products', 'jwk_public_keys', 'proxyPattern'] as const) {
    const s = str(ec[k], ['edge_config', k]);
    if (s !== undefined) edgeConfig[k] = s;
  }

  if (config.edgemicro === undefined) fail(['edgemicro'], 'is not defined');
  const em = section(config.edgemicro, ['edgemicro']);
  unknownKeys(em, ['edgemicro'], EDGEMICRO_KEYS);
  const port = num(em.port, ['edgemicro', 'port'], { min: 1, max: 65535, required: true }) ?? 8000;
  const address = str(em.address, ['edgemicro', 'address']);
  const maxConnections = num(em.max_connections, ['edgemicro', 'max_connections'], { min: 1 }) ?? 1000;
  const poll =
    num(em.config_change_poll_interval, ['edgemicro', 'config_change_poll_interval'], { min: 1 }) ?? 600;
  const keepAlive = num(em.keep_alive_timeout, ['edgemicro', 'keep_alive_timeout'], { min: 1 });
  const headersTimeout = num(em.headers_timeout, ['edgemicro', 'headers_timeout'], { min: 1 });
  const requestTimeout = num(em.request_timeout, ['edgemicro', 'request_timeout'], { min: 1 });
  const maxHeader = num(em.maxHttpHeaderSize, ['edgemicro', 'maxHttpHeaderSize'], { min: 1 });
  num(em.max_connections_hard, ['edgemicro', 'max_connections_hard'], { min: 1 });
  bool(em.nodelay, ['edgemicro', 'nodelay'], false);

  const lg = section(em.logging, ['edgemicro', 'logging']);
  unknownKeys(lg, ['edgemicro', 'logging'], LOGGING_KEYS);
  let level: LogLevel = 'error';
  if (lg.level !== undefined) {
    if (typeof lg.level === 'string' && (LEVELS as string[]).includes(lg.level)) level = lg.level as LogLevel;
    else
      fail(
        ['edgemicro', 'logging', 'level'],
        `invalid value: ${JSON.stringify(lg.level)}, valid values are ${LEVELS.join(', ')}`,
      );
  }
  const toConsole = bool(lg.to_console, ['edgemicro', 'logging', 'to_console'], false);
  const logDir = str(lg.dir, ['edgemicro', 'logging', 'dir']);
  if (!toConsole && logDir === undefined && config.edgemicro !== undefined)
    fail(['edgemicro', 'logging', 'dir'], 'is not defined (set it, or logging.to_console: true)');
  const rotate = num(lg.rotate_interval, ['edgemicro', 'logging', 'rotate_interval'], { min: 0 }) ?? 24;
  num(lg.stats_log_interval, ['edgemicro', 'logging', 'stats_log_interval'], { min: 0 });

  const pl = section(em.plugins, ['edgemicro', 'plugins']);
  unknownKeys(pl, ['edgemicro', 'plugins'], PLUGINS_KEYS);
  const excludeUrls: string[] = [];
  if (pl.excludeUrls !== undefined && pl.excludeUrls !== null) {
    if (typeof pl.excludeUrls === 'string')
      excludeUrls.push(
        ...pl.excludeUrls
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    else if (Array.isArray(pl.excludeUrls) && pl.excludeUrls.every((s) => typeof s === 'string'))
      excludeUrls.push(...(pl.excludeUrls as string[]));
    else fail(['edgemicro', 'plugins', 'excludeUrls'], 'expected a comma-separated string of paths');
  }

  let proxy: EdgemicroSettings['edgemicro']['proxy'];
  if (em.proxy !== undefined && em.proxy !== null) {
    const px = section(em.proxy, ['edgemicro', 'proxy']);
    unknownKeys(px, ['edgemicro', 'proxy'], PROXY_KEYS);
    proxy = { enabled: bool(px.enabled, ['edgemicro', 'proxy', 'enabled'], false) };
    const url = str(px.url, ['edgemicro', 'proxy', 'url']);
    if (url !== undefined) {
      try {
        new URL(url);
        proxy.url = url;
      } catch {
        fail(['edgemicro', 'proxy', 'url'], `invalid URL: ${JSON.stringify(url)}`);
      }
    }
    if (px.tunnel !== undefined) proxy.tunnel = bool(px.tunnel, ['edgemicro', 'proxy', 'tunnel'], false);
    const bypass = str(px.bypass, ['edgemicro', 'proxy', 'bypass']);
    if (bypass !== undefined) proxy.bypass = bypass;
  }

  let proxies: string[] | undefined;
  if (em.proxies !== undefined && em.proxies !== null) {
    if (Array.isArray(em.proxies) && em.proxies.every((s) => typeof s === 'string'))
      proxies = em.proxies as string[];
    else fail(['edgemicro', 'proxies'], 'expected a list of proxy names');
  }

  const hd = section(config.headers, ['headers']);
  unknownKeys(hd, ['headers'], HEADER_KEYS);
  const headers: Record<string, boolean> = {};
  for (const k of HEADER_KEYS) headers[k] = bool(hd[k], ['headers', k], true);

  const targets: EdgemicroSettings['targets'] = [];
  if (config.targets !== undefined && config.targets !== null) {
    if (!Array.isArray(config.targets)) fail(['targets'], 'expected a list');
    else
      config.targets.forEach((t, i) => {
        const path = ['targets', String(i)];
        const o = section(t, path);
        unknownKeys(o, path, ['host', 'ssl']);
        const entry: EdgemicroSettings['targets'][number] = {};
        const host = str(o.host, [...path, 'host']);
        if (host !== undefined) entry.host = host;
        if (o.ssl !== undefined) {
          const s = section(o.ssl, [...path, 'ssl']);
          unknownKeys(s, [...path, 'ssl'], ['client']);
          entry.ssl = { client: ssl(s.client, [...path, 'ssl', 'client']) };
        }
        targets.push(entry);
      });
  }

  const settings: EdgemicroSettings = {
    edgeConfig,
    edgemicro: {
      port,
      ...(address !== undefined ? { address } : {}),
      max_connections: maxConnections,
      config_change_poll_interval: poll,
      disable_config_poll_interval: bool(
        em.disable_config_poll_interval,
        ['edgemicro', 'disable_config_poll_interval'],
        false,
      ),
      ...(keepAlive !== undefined ? { keep_alive_timeout: keepAlive } : {}),
      ...(headersTimeout !== undefined ? { headers_timeout: headersTimeout } : {}),
      ...(requestTimeout !== undefined ? { request_timeout: requestTimeout } : {}),
      ...(maxHeader !== undefined ? { maxHttpHeaderSize: maxHeader } : {}),
      logging: {
        level,
        ...(logDir !== undefined ? { dir: logDir } : {}),
        to_console: toConsole,
        rotate_interval: rotate,
        disableStrictLogFile: bool(
          lg.disableStrictLogFile,
          ['edgemicro', 'logging', 'disableStrictLogFile'],
          false,
        ),
      },
      plugins: { ...(typeof pl.dir === 'string' ? { dir: pl.dir } : {}), sequence, excludeUrls },
      ...(em.ssl !== undefined && em.ssl !== null ? { ssl: ssl(em.ssl, ['edgemicro', 'ssl']) } : {}),
      ...(proxy ? { proxy } : {}),
      ...(proxies ? { proxies } : {}),
      enableAnalytics: bool(em.enableAnalytics, ['edgemicro', 'enableAnalytics'], true),
    },
    headers,
    targets,
  };
  if (problems.length) throw new EdgemicroConfigError(problems);
  return settings;
}
