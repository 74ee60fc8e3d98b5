// Structural validation of the native config. Every problem is reported with its key path and what
// was expected, all at once, so a user fixes a file in one pass (like `nginx -t`, but complete).
import type { GatehouseConfig } from './types.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(
      `${source ? `${source}: ` : ''}invalid configuration:\n` +
        problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
  }
}

type Obj = Record<string, unknown>;

class Checker {
  readonly problems: ConfigProblem[] = [];

  fail(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  object(v: unknown, path: string, keys: readonly string[]): v is Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.fail(path, `expected an object, got ${describe(v)}`);
      return false;
    }
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.fail(join(path, k), `unknown key (expected one of: ${keys.join(', ')})`);
    }
    return true;
  }

  array(v: unknown, path: string): v is unknown[] {
    if (!Array.isArray(v)) {
      this.fail(path, `expected an array, got ${describe(v)}`);
      return false;
    }
    return true;
  }

  string(v: unknown, path: string, optional = false, nonEmpty = true): boolean {
    if (v === undefined && optional) return true;
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) {
      this.fail(path, `expected a ${nonEmpty ? 'non-empty ' : ''}string, got ${describe(v, path)}`);
      return false;
    }
    return true;
  }

  int(v: unknown, path: string, min: number, max: number, optional = true): boolean {
    if (v === undefined && optional) return true;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `expected an integer from ${min} to ${max}, got ${describe(v, path)}`);
      return false;
    }
    return true;
  }

  bool(v: unknown, path: string): void {
    if (v !== undefined && typeof v !== 'boolean')
      this.fail(path, `expected true or false, got ${describe(v, path)}`);
  }

  oneOf(v: unknown, path: string, values: readonly string[], optional = true): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'string' || !values.includes(v))
      this.fail(
        path,
        `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`,
      );
  }

  regex(v: unknown, path: string): void {
    if (!this.string(v, path)) return;
    try {
      new RegExp((v as string).replace(/\(\?P</g, '(?<'));
    } catch (e) {
      this.fail(path, `invalid regular expression: ${(e as Error).message}`);
    }
  }
}

const SECRET_KEY = /(passphrase|password|secret|token|key|cert|pfx)$/i;

function describe(v: unknown, path = ''): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  // Never echo what may be a secret: values under secret-like keys, and the userinfo of URLs.
  if (SECRET_KEY.test(path)) return `a ${typeof v} (value not shown)`;
  if (typeof v === 'string') {
    const safe = v.replace(/\/\/[^/@\s]*@/g, '//***@');
    return JSON.stringify(safe.length > 40 ? safe.slice(0, 40) + '…' : safe);
  }
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

const MAX_MS = 2 ** 31 - 1;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** What the engine that will run a config has, beyond what the config itself defines. */
export interface ValidateOptions {
  /** File name for messages. */
  source?: string;
  /** Error renderer names registered with the engine (the built-in `json` is always known). */
  errorRenderers?: Iterable<string>;
  /** Plugin names the engine can run. When absent, routes may name plugins only if the config has a
   *  `plugins` section to load them from (whoever loads them reports a missing one). */
  plugins?: Iterable<string>;
}

interface Known {
  upstreams: Set<string>;
  renderers: ReadonlySet<string>;
  plugins: ReadonlySet<string> | undefined;
  pluginSection: boolean;
}

/** Validate an unknown value as a GatehouseConfig; throws ConfigError listing every problem. Returns a
 *  deep, frozen copy: the caller's object may change afterwards without changing what runs. */
export function validateConfig(original: unknown, options?: string | ValidateOptions): GatehouseConfig {
  const o: ValidateOptions = typeof options === 'string' ? { source: options } : (options ?? {});
  const source = o.source;
  let input: unknown;
  try {
    // Copied before checking, so what was checked is what runs (getters are read once, here).
    input = structuredClone(original);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `not plain data (${(err as Error).message})` }], source);
  }
  const renderers = new Set(['json', ...(o.errorRenderers ?? [])]);
  const plugins = o.plugins === undefined ? undefined : new Set(o.plugins);
  const c = new Checker();
  if (
    c.object(input, '', [
      'servers',
      'upstreams',
      'maps',
      'limits',
      'headers',
      'log',
      'admin',
      'hosts',
      'egressProxy',
      'drainTimeoutMs',
      'plugins',
    ])
  ) {
    checkConfig(c, input, renderers, plugins);
  }
  if (c.problems.length) throw new ConfigError(c.problems, source);
  return deepFreeze(input) as GatehouseConfig;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

function checkConfig(
  c: Checker,
  cfg: Obj,
  renderers: ReadonlySet<string>,
  plugins: ReadonlySet<string> | undefined,
): void {
  const upstreamNames = new Set<string>();
  const known: Known = {
    upstreams: upstreamNames,
    renderers,
    plugins,
    pluginSection: cfg.plugins !== undefined,
  };
  if (
    cfg.upstreams !== undefined &&
    c.object(cfg.upstreams, 'upstreams', Object.keys(cfg.upstreams as Obj))
  ) {
    for (const [name, u] of Object.entries(cfg.upstreams as Obj)) {
      upstreamNames.add(name);
      checkUpstream(c, u, `upstreams.${name}`, true);
    }
  }
  if (c.array(cfg.servers, 'servers')) {
    if ((cfg.servers as unknown[]).length === 0) c.fail('servers', 'expected at least one server');
    (cfg.servers as unknown[]).forEach((s, i) => checkServer(c, s, `servers[${i}]`, known));
  }
  if (cfg.maps !== undefined && c.array(cfg.maps, 'maps')) {
    (cfg.maps as unknown[]).forEach((m, i) => {
      const p = `maps[${i}]`;
      if (!c.object(m, p, ['source', 'variable', 'entries', 'regexEntries', 'default'])) return;
      c.string(m.source, `${p}.source`, false, false);
      c.string(m.variable, `${p}.variable`);
      if (m.entries !== undefined && c.array(m.entries, `${p}.entries`))
        (m.entries as unknown[]).forEach((e, j) => {
          if (c.object(e, `${p}.entries[${j}]`, ['key', 'value'])) {
            c.string(e.key, `${p}.entries[${j}].key`, false, false);
            c.string(e.value, `${p}.entries[${j}].value`, false, false);
          }
        });
      if (m.regexEntries !== undefined && c.array(m.regexEntries, `${p}.regexEntries`))
        (m.regexEntries as unknown[]).forEach((e, j) => {
          if (c.object(e, `${p}.regexEntries[${j}]`, ['regex', 'caseInsensitive', 'value'])) {
            c.regex(e.regex, `${p}.regexEntries[${j}].regex`);
            c.bool(e.caseInsensitive, `${p}.regexEntries[${j}].caseInsensitive`);
            c.string(e.value, `${p}.regexEntries[${j}].value`, false, false);
          }
        });
      c.string(m.default, `${p}.default`, true, false);
    });
  }
  if (cfg.limits !== undefined) checkLimits(c, cfg.limits, 'limits');
  if (
    cfg.headers !== undefined &&
    c.object(cfg.headers, 'headers', [
      'xForwardedFor',
      'xForwardedProto',
      'xForwardedHost',
      'via',
      'forwarded',
    ])
  ) {
    const h = cfg.headers;
    c.oneOf(h.xForwardedFor, 'headers.xForwardedFor', ['append', 'replace', 'off']);
    c.oneOf(h.xForwardedProto, 'headers.xForwardedProto', ['set', 'replace', 'off']);
    c.oneOf(h.xForwardedHost, 'headers.xForwardedHost', ['set', 'replace', 'off']);
    c.string(h.via, 'headers.via', true);
    c.bool(h.forwarded, 'headers.forwarded');
  }
  if (cfg.log !== undefined && c.object(cfg.log, 'log', ['level', 'access'])) {
    c.oneOf(cfg.log.level, 'log.level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
    const a = cfg.log.access;
    if (a !== undefined && typeof a !== 'boolean' && typeof a !== 'string')
      c.fail('log.access', `expected true, false or a file path, got ${describe(a)}`);
  }
  if (cfg.admin !== undefined && c.object(cfg.admin, 'admin', ['address', 'port'])) {
    c.string(cfg.admin.address, 'admin.address', true);
    c.int(cfg.admin.port, 'admin.port', 0, 65535, false);
  }
  if (cfg.hosts !== undefined && c.object(cfg.hosts, 'hosts', Object.keys(cfg.hosts as Obj))) {
    for (const [k, v] of Object.entries(cfg.hosts as Obj)) c.string(v, `hosts.${k}`);
  }
  if (cfg.egressProxy !== undefined && cfg.egressProxy !== 'env') {
    if (c.object(cfg.egressProxy, 'egressProxy', ['http', 'https', 'noProxy', 'tunnel'])) {
      c.string(cfg.egressProxy.http, 'egressProxy.http', true);
      c.bool(cfg.egressProxy.tunnel, 'egressProxy.tunnel');
      c.string(cfg.egressProxy.https, 'egressProxy.https', true);
      if (cfg.egressProxy.noProxy !== undefined && c.array(cfg.egressProxy.noProxy, 'egressProxy.noProxy'))
        (cfg.egressProxy.noProxy as unknown[]).forEach((v, i) => c.string(v, `egressProxy.noProxy[${i}]`));
    }
  }
  c.int(cfg.drainTimeoutMs, 'drainTimeoutMs', 0, MAX_MS);
  if (cfg.plugins !== undefined && c.object(cfg.plugins, 'plugins', ['dir', 'config', 'hookTimeoutMs'])) {
    c.string(cfg.plugins.dir, 'plugins.dir');
    if (cfg.plugins.config !== undefined)
      c.object(cfg.plugins.config, 'plugins.config', Object.keys(cfg.plugins.config as Obj));
    c.int(cfg.plugins.hookTimeoutMs, 'plugins.hookTimeoutMs', 0, MAX_MS);
  }
}

function checkLimits(c: Checker, v: unknown, p: string): void {
  const keys = [
    'maxConnections',
    'maxHeaderSize',
    'maxBodySize',
    'headersTimeoutMs',
    'requestTimeoutMs',
    'clientBodyTimeoutMs',
    'sendTimeoutMs',
    'keepAliveTimeoutMs',
    'keepAliveHeader',
    'upgradeIdleTimeoutMs',
    'maxRequestsPerConnection',
    'bodyBufferMemory',
    'bodyBufferMaxSize',
    'minRequestDataRate',
    'minRequestDataRateGraceMs',
  ];
  if (!c.object(v, p, keys)) return;
  c.int(v.maxConnections, `${p}.maxConnections`, 1, 10_000_000);
  c.int(v.maxHeaderSize, `${p}.maxHeaderSize`, 1024, 1024 * 1024);
  c.int(v.maxBodySize, `${p}.maxBodySize`, 0, MAX_SIZE);
  for (const k of [
    'headersTimeoutMs',
    'requestTimeoutMs',
    'clientBodyTimeoutMs',
    'sendTimeoutMs',
    'keepAliveTimeoutMs',
    'upgradeIdleTimeoutMs',
  ])
    c.int(v[k], `${p}.${k}`, 0, MAX_MS);
  c.int(v.maxRequestsPerConnection, `${p}.maxRequestsPerConnection`, 0, MAX_MS);
  c.bool(v.keepAliveHeader, `${p}.keepAliveHeader`);
  c.int(v.bodyBufferMemory, `${p}.bodyBufferMemory`, 0, 64 * 1024 * 1024);
  c.int(v.bodyBufferMaxSize, `${p}.bodyBufferMaxSize`, 0, MAX_SIZE);
  c.int(v.minRequestDataRate, `${p}.minRequestDataRate`, 0, 1024 * 1024 * 1024);
  c.int(v.minRequestDataRateGraceMs, `${p}.minRequestDataRateGraceMs`, 0, MAX_MS);
}

function checkUpstream(c: Checker, u: unknown, p: string, urlRequired: boolean): void {
  const keys = [
    'url',
    'tls',
    'connectTimeoutMs',
    'readTimeoutMs',
    'sendTimeoutMs',
    'maxConnections',
    'keepAliveTimeoutMs',
    'keepAlive',
    'maxQueued',
    'queueTimeoutMs',
  ];
  if (!c.object(u, p, urlRequired ? keys : keys.filter((k) => k !== 'url'))) return;
  if (urlRequired && c.string(u.url, `${p}.url`)) {
    let url: URL | undefined;
    try {
      url = new URL(u.url as string);
    } catch {
      c.fail(`${p}.url`, `expected an absolute http:// or https:// URL, got ${describe(u.url)}`);
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:')
      c.fail(`${p}.url`, `expected an http:// or https:// URL, got ${describe(u.url)}`);
  }
  for (const k of [
    'connectTimeoutMs',
    'readTimeoutMs',
    'sendTimeoutMs',
    'keepAliveTimeoutMs',
    'queueTimeoutMs',
  ])
    c.int(u[k], `${p}.${k}`, 0, MAX_MS);
  c.int(u.maxConnections, `${p}.maxConnections`, 1, 100_000);
  c.int(u.maxQueued, `${p}.maxQueued`, 0, 1_000_000);
  c.bool(u.keepAlive, `${p}.keepAlive`);
  if (u.tls !== undefined) {
    const t = u.tls;
    const tp = `${p}.tls`;
    if (
      c.object(t, tp, [
        'verify',
        'caFile',
        'ca',
        'certFile',
        'keyFile',
        'cert',
        'key',
        'passphrase',
        'serverName',
        'name',
        'verifyDepth',
        'minVersion',
      ])
    ) {
      c.bool(t.verify, `${tp}.verify`);
      c.bool(t.serverName, `${tp}.serverName`);
      for (const k of ['caFile', 'ca', 'certFile', 'keyFile', 'cert', 'key', 'passphrase', 'name'])
        c.string(t[k], `${tp}.${k}`, true);
      c.int(t.verifyDepth, `${tp}.verifyDepth`, 0, 100);
      c.oneOf(t.minVersion, `${tp}.minVersion`, TLS_VERSIONS);
      if ((t.certFile || t.cert) && !(t.keyFile || t.key)) c.fail(tp, 'a client certificate needs its key');
    }
  }
}

function checkServer(c: Checker, s: unknown, p: string, known: Known): void {
  if (
    !c.object(s, p, [
      'name',
      'listen',
      'serverNames',
      'tls',
      'rewrite',
      'routes',
      'limits',
      'addResponseHeaders',
      'paths',
      'errors',
      'underscoresInHeaders',
    ])
  )
    return;
  c.string(s.name, `${p}.name`, true);
  c.bool(s.underscoresInHeaders, `${p}.underscoresInHeaders`);
  checkRenderer(c, s.errors, `${p}.errors`, known.renderers);
  if (s.paths !== undefined && c.object(s.paths, `${p}.paths`, ['ignoreCase', 'refuseTrailingDots'])) {
    c.bool(s.paths.ignoreCase, `${p}.paths.ignoreCase`);
    c.bool(s.paths.refuseTrailingDots, `${p}.paths.refuseTrailingDots`);
  }
  let anyTls = false;
  if (c.array(s.listen, `${p}.listen`)) {
    if ((s.listen as unknown[]).length === 0) c.fail(`${p}.listen`, 'expected at least one listener');
    (s.listen as unknown[]).forEach((l, i) => {
      const lp = `${p}.listen[${i}]`;
      if (!c.object(l, lp, ['address', 'port', 'tls', 'http2', 'h2c', 'defaultServer'])) return;
      c.string(l.address, `${lp}.address`, true);
      c.int(l.port, `${lp}.port`, 0, 65535, false);
      c.bool(l.tls, `${lp}.tls`);
      c.bool(l.http2, `${lp}.http2`);
      c.bool(l.h2c, `${lp}.h2c`);
      c.bool(l.defaultServer, `${lp}.defaultServer`);
      if (l.tls === true) anyTls = true;
    });
  }
  if (s.serverNames !== undefined && c.array(s.serverNames, `${p}.serverNames`))
    (s.serverNames as unknown[]).forEach((n, i) => c.string(n, `${p}.serverNames[${i}]`));
  if (anyTls && s.tls === undefined) c.fail(`${p}.tls`, 'a TLS listener needs tls settings (a certificate)');
  if (s.tls !== undefined) checkServerTls(c, s.tls, `${p}.tls`);
  if (s.rewrite !== undefined) checkStatements(c, s.rewrite, `${p}.rewrite`);
  if (s.limits !== undefined) checkLimits(c, s.limits, `${p}.limits`);
  if (s.addResponseHeaders !== undefined) checkHeaderSets(c, s.addResponseHeaders, `${p}.addResponseHeaders`);
  if (c.array(s.routes, `${p}.routes`)) {
    (s.routes as unknown[]).forEach((r, i) => checkRoute(c, r, `${p}.routes[${i}]`, known));
  }
}

function checkCertSource(c: Checker, v: unknown, p: string, extra: string[] = []): void {
  if (!c.object(v, p, ['certFile', 'keyFile', 'cert', 'key', 'pfxFile', 'passphrase', ...extra])) return;
  for (const k of ['certFile', 'keyFile', 'cert', 'key', 'pfxFile', 'passphrase'])
    c.string(v[k], `${p}.${k}`, true);
  const hasPem = (v.certFile || v.cert) && (v.keyFile || v.key);
  if (!hasPem && !v.pfxFile) c.fail(p, 'expected certFile+keyFile, cert+key, or pfxFile');
}

function checkServerTls(c: Checker, t: unknown, p: string): void {
  if (
    !c.object(t, p, [
      'certificate',
      'sni',
      'minVersion',
      'maxVersion',
      'ciphers',
      'clientCertificate',
      'watch',
    ])
  )
    return;
  if (t.certificate !== undefined) checkCertSource(c, t.certificate, `${p}.certificate`);
  if (t.sni !== undefined && c.array(t.sni, `${p}.sni`))
    (t.sni as unknown[]).forEach((s, i) => checkCertSource(c, s, `${p}.sni[${i}]`, ['serverNames']));
  if (t.certificate === undefined && (t.sni === undefined || (t.sni as unknown[]).length === 0))
    c.fail(`${p}.certificate`, 'expected a default certificate or at least one SNI certificate');
  c.oneOf(t.minVersion, `${p}.minVersion`, TLS_VERSIONS);
  c.oneOf(t.maxVersion, `${p}.maxVersion`, TLS_VERSIONS);
  c.string(t.ciphers, `${p}.ciphers`, true);
  c.bool(t.watch, `${p}.watch`);
  if (t.clientCertificate !== undefined) {
    const cc = t.clientCertificate;
    const cp = `${p}.clientCertificate`;
    if (c.object(cc, cp, ['mode', 'caFile', 'ca', 'verifyDepth'])) {
      c.oneOf(cc.mode, `${cp}.mode`, ['off', 'optional', 'optional_no_ca', 'required'], false);
      c.string(cc.caFile, `${cp}.caFile`, true);
      c.string(cc.ca, `${cp}.ca`, true);
      c.int(cc.verifyDepth, `${cp}.verifyDepth`, 0, 100);
      if ((cc.mode === 'optional' || cc.mode === 'required') && !cc.caFile && !cc.ca)
        c.fail(cp, `mode "${String(cc.mode)}" verifies client certificates and needs caFile or ca`);
    }
  }
}

function checkHeaderSets(c: Checker, v: unknown, p: string): void {
  if (!c.array(v, p)) return;
  v.forEach((h, i) => {
    if (!c.object(h, `${p}[${i}]`, ['name', 'value'])) return;
    if (c.string(h.name, `${p}[${i}].name`) && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h.name as string))
      c.fail(`${p}[${i}].name`, `not a valid header name: ${describe(h.name)}`);
    c.string(h.value, `${p}[${i}].value`, false, false);
  });
}

function checkStatements(c: Checker, v: unknown, p: string): void {
  if (!c.array(v, p)) return;
  v.forEach((s, i) => {
    const sp = `${p}[${i}]`;
    if (typeof s !== 'object' || s === null)
      return c.fail(sp, `expected a statement object, got ${describe(s)}`);
    const type = (s as Obj).type;
    switch (type) {
      case 'if':
        if (!c.object(s, sp, ['type', 'condition', 'then'])) return;
        checkCondition(c, s.condition, `${sp}.condition`);
        checkStatements(c, s.then, `${sp}.then`);
        return;
      case 'rewrite':
        if (!c.object(s, sp, ['type', 'regex', 'replacement', 'flag'])) return;
        c.regex(s.regex, `${sp}.regex`);
        c.string(s.replacement, `${sp}.replacement`);
        c.oneOf(s.flag, `${sp}.flag`, ['last', 'break', 'redirect', 'permanent']);
        return;
      case 'set':
        if (!c.object(s, sp, ['type', 'variable', 'value'])) return;
        c.string(s.variable, `${sp}.variable`);
        c.string(s.value, `${sp}.value`, false, false);
        return;
      case 'return':
        if (!c.object(s, sp, ['type', 'status', 'body'])) return;
        c.int(s.status, `${sp}.status`, 100, 999, false);
        c.string(s.body, `${sp}.body`, true, false);
        return;
      default:
        c.fail(`${sp}.type`, `expected "if", "rewrite", "set" or "return", got ${describe(type)}`);
    }
  });
}

function checkCondition(c: Checker, v: unknown, p: string): void {
  if (typeof v !== 'object' || v === null)
    return c.fail(p, `expected a condition object, got ${describe(v)}`);
  const type = (v as Obj).type;
  if (type === 'truthy') {
    if (c.object(v, p, ['type', 'value'])) c.string(v.value, `${p}.value`, false, false);
  } else if (type === 'equals') {
    if (!c.object(v, p, ['type', 'value', 'to', 'negate'])) return;
    c.string(v.value, `${p}.value`, false, false);
    c.string(v.to, `${p}.to`, false, false);
    c.bool(v.negate, `${p}.negate`);
  } else if (type === 'matches') {
    if (!c.object(v, p, ['type', 'value', 'regex', 'caseInsensitive', 'negate'])) return;
    c.string(v.value, `${p}.value`, false, false);
    c.regex(v.regex, `${p}.regex`);
    c.bool(v.caseInsensitive, `${p}.caseInsensitive`);
    c.bool(v.negate, `${p}.negate`);
  } else c.fail(`${p}.type`, `expected "truthy", "equals" or "matches", got ${describe(type)}`);
}

/** Fail closed: a route must not be served without a plugin it names. */
function checkPluginName(c: Checker, n: unknown, p: string, known: Known): void {
  if (!c.string(n, p)) return;
  const name = n as string;
  if (known.plugins === undefined) {
    if (!known.pluginSection)
      c.fail(p, `unknown plugin ${describe(name)}: the config has no plugins section to load it from`);
  } else if (!known.plugins.has(name))
    c.fail(
      p,
      `unknown plugin ${describe(name)} (this engine can run: ${[...known.plugins].join(', ') || 'no plugins'})`,
    );
}

function checkRenderer(c: Checker, v: unknown, p: string, renderers: ReadonlySet<string>): void {
  if (v === undefined || !c.string(v, p)) return;
  if (!renderers.has(v as string))
    c.fail(p, `unknown error renderer ${describe(v)} (this engine has: ${[...renderers].join(', ')})`);
}

function checkRoute(c: Checker, r: unknown, p: string, known: Known): void {
  const upstreams = known.upstreams;
  if (
    !c.object(r, p, [
      'name',
      'match',
      'internal',
      'rewrite',
      'action',
      'maxBodySize',
      'plugins',
      'authRequest',
      'addResponseHeaders',
      'errors',
    ])
  )
    return;
  c.string(r.name, `${p}.name`, true);
  checkRenderer(c, r.errors, `${p}.errors`, known.renderers);
  const m = r.match;
  const mp = `${p}.match`;
  if (typeof m !== 'object' || m === null) c.fail(mp, `expected a match object, got ${describe(m)}`);
  else if ('basePath' in m) {
    if (
      c.object(m, mp, ['basePath']) &&
      c.string(m.basePath, `${mp}.basePath`) &&
      !(m.basePath as string).startsWith('/')
    )
      c.fail(`${mp}.basePath`, 'expected a path starting with "/"');
  } else if ('exact' in m) {
    if (c.object(m, mp, ['exact'])) c.string(m.exact, `${mp}.exact`);
  } else if ('prefix' in m) {
    if (c.object(m, mp, ['prefix', 'stopRegex'])) {
      c.string(m.prefix, `${mp}.prefix`, false, false);
      c.bool((m as Obj).stopRegex, `${mp}.stopRegex`);
    }
  } else if ('regex' in m) {
    if (c.object(m, mp, ['regex', 'caseInsensitive'])) {
      c.regex(m.regex, `${mp}.regex`);
      c.bool((m as Obj).caseInsensitive, `${mp}.caseInsensitive`);
    }
  } else c.fail(mp, 'expected one of basePath, exact, prefix or regex');
  c.bool(r.internal, `${p}.internal`);
  if (r.rewrite !== undefined) checkStatements(c, r.rewrite, `${p}.rewrite`);
  c.int(r.maxBodySize, `${p}.maxBodySize`, 0, MAX_SIZE);
  if (r.plugins !== undefined && c.array(r.plugins, `${p}.plugins`))
    (r.plugins as unknown[]).forEach((n, i) => checkPluginName(c, n, `${p}.plugins[${i}]`, known));
  if (r.addResponseHeaders !== undefined) checkHeaderSets(c, r.addResponseHeaders, `${p}.addResponseHeaders`);
  if (r.authRequest !== undefined && c.object(r.authRequest, `${p}.authRequest`, ['uri', 'set'])) {
    const ap = `${p}.authRequest`;
    if (c.string(r.authRequest.uri, `${ap}.uri`) && !(r.authRequest.uri as string).startsWith('/'))
      c.fail(`${ap}.uri`, 'expected a path starting with "/"');
    if (r.authRequest.set !== undefined && c.array(r.authRequest.set, `${ap}.set`))
      (r.authRequest.set as unknown[]).forEach((s, i) => {
        if (c.object(s, `${ap}.set[${i}]`, ['variable', 'value'])) {
          c.string(s.variable, `${ap}.set[${i}].variable`);
          c.string(s.value, `${ap}.set[${i}].value`, false, false);
        }
      });
  }
  const a = r.action;
  const ap = `${p}.action`;
  if (typeof a !== 'object' || a === null) return c.fail(ap, `expected an action object, got ${describe(a)}`);
  const type = (a as Obj).type;
  if (type === 'proxy') {
    if (
      !c.object(a, ap, [
        'type',
        'upstream',
        'target',
        'setHeaders',
        'host',
        'options',
        'cache',
        'upgrade',
        'keepAlive',
        'requestBuffering',
      ])
    )
      return;
    if (c.string(a.upstream, `${ap}.upstream`)) {
      const u = a.upstream as string;
      const isTemplate = u.includes('://') || u.includes('$');
      if (!isTemplate && !upstreams.has(u))
        c.fail(`${ap}.upstream`, `unknown upstream "${u}" (expected a name from upstreams or a URL)`);
      if (isTemplate && !u.includes('$')) {
        try {
          const url = new URL(u);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
        } catch {
          c.fail(`${ap}.upstream`, `expected an http:// or https:// URL, got ${describe(u)}`);
        }
      }
    }
    c.oneOf(a.target, `${ap}.target`, ['request_uri', 'replace_prefix', 'base_path', 'url']);
    if (a.target === 'base_path' && !(m && typeof m === 'object' && 'basePath' in m))
      c.fail(`${ap}.target`, '"base_path" needs a basePath match');
    if (a.target === 'replace_prefix' && !(m && typeof m === 'object' && ('prefix' in m || 'exact' in m)))
      c.fail(`${ap}.target`, '"replace_prefix" needs a prefix or exact match');
    if (a.setHeaders !== undefined) checkHeaderSets(c, a.setHeaders, `${ap}.setHeaders`);
    if (a.host !== undefined && a.host !== 'preserve' && a.host !== 'upstream') {
      if (c.object(a.host, `${ap}.host`, ['template'])) c.string(a.host.template, `${ap}.host.template`);
    }
    if (a.options !== undefined) checkUpstream(c, a.options, `${ap}.options`, false);
    if (a.cache !== undefined && c.object(a.cache, `${ap}.cache`, ['key', 'validMs', 'maxEntries'])) {
      c.string(a.cache.key, `${ap}.cache.key`, false, false);
      c.int(a.cache.validMs, `${ap}.cache.validMs`, 0, MAX_MS, false);
      c.int(a.cache.maxEntries, `${ap}.cache.maxEntries`, 1, 1_000_000);
    }
    if (Array.isArray(a.upgrade))
      (a.upgrade as unknown[]).forEach((t, i) => {
        if (c.string(t, `${ap}.upgrade[${i}]`) && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(t as string))
          c.fail(`${ap}.upgrade[${i}]`, `not a protocol name: ${describe(t)}`);
      });
    else if (a.upgrade !== undefined && typeof a.upgrade !== 'boolean')
      c.fail(`${ap}.upgrade`, `expected true, false or a list of protocol names, got ${describe(a.upgrade)}`);
    c.bool(a.keepAlive, `${ap}.keepAlive`);
    c.bool(a.requestBuffering, `${ap}.requestBuffering`);
  } else if (type === 'return') {
    if (!c.object(a, ap, ['type', 'status', 'body', 'headers'])) return;
    c.int(a.status, `${ap}.status`, 100, 999, false);
    c.string(a.body, `${ap}.body`, true, false);
    if (a.headers !== undefined) checkHeaderSets(c, a.headers, `${ap}.headers`);
  } else c.fail(`${ap}.type`, `expected "proxy" or "return", got ${describe(type)}`);
}
