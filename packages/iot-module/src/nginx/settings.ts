// Settings that nginx inherits from http to server to location. Scalars inherit one by one; lists
// (proxy_set_header, add_header, auth_request_set, proxy_cache_valid) inherit only as a whole: a
// level that sets any entry replaces every entry of the levels above, exactly as nginx merges them.
import type { NginxArg, NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type { HeaderSet, TlsVersion } from './native-types.js';

interface CacheValidity {
  /** Status codes (`200`, `any`); empty means nginx's default 200, 301, 302. */
  codes: string[];
  ms: number;
  at: NginxDirective;
}

export interface Settings {
  proxySetHeaders?: HeaderSet[];
  addHeaders?: Array<HeaderSet & { always: boolean }>;
  authRequestSet?: Array<{ variable: string; value: string }>;
  cacheValid?: CacheValidity[];
  proxyHttpVersion?: '1.0' | '1.1';
  proxySslVerify?: boolean;
  proxySslServerName?: boolean;
  proxySslName?: NginxArg;
  proxySslTrustedCertificate?: string;
  proxySslVerifyDepth?: number;
  proxySslCertificate?: string;
  proxySslCertificateKey?: string;
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
  sendTimeoutMs?: number;
  /** `proxy_request_buffering`; unset means nginx's default, on. */
  requestBuffering?: boolean;
  maxBodySize?: number;
  /** `null` is `auth_request off`. */
  authRequest?: string | null;
  /** `null` is `proxy_cache off`. */
  cache?: { zone: string; at: NginxDirective } | null;
  cacheKey?: string;
  keepaliveTimeoutMs?: number;
  /** `keepalive_timeout` with its second argument: a `Keep-Alive:` response field is sent. */
  keepaliveHeader?: boolean;
  /** `client_header_timeout`. */
  headerTimeoutMs?: number;
  /** `client_body_timeout`: between two reads of a request body. */
  bodyTimeoutMs?: number;
  /** `send_timeout`: between two writes of a response to the client (not `proxy_send_timeout`). */
  clientSendTimeoutMs?: number;
  sslCertificate?: NginxArg;
  sslCertificateKey?: NginxArg;
  sslClientCertificate?: NginxArg;
  sslVerifyClient?: 'off' | 'optional' | 'optional_no_ca' | 'required';
  sslVerifyDepth?: number;
  sslProtocols?: { min: TlsVersion; max: TlsVersion };
  sslCiphers?: string;
}

/** Directives this module turns into Settings (others are handled by their level's compiler). */
const SETTING_DIRECTIVES: ReadonlySet<string> = new Set([
  'proxy_set_header',
  'add_header',
  'auth_request_set',
  'proxy_cache_valid',
  'proxy_http_version',
  'proxy_ssl_verify',
  'proxy_ssl_server_name',
  'proxy_ssl_name',
  'proxy_ssl_trusted_certificate',
  'proxy_ssl_verify_depth',
  'proxy_ssl_certificate',
  'proxy_ssl_certificate_key',
  'proxy_read_timeout',
  'proxy_connect_timeout',
  'proxy_send_timeout',
  'proxy_request_buffering',
  'client_max_body_size',
  'auth_request',
  'proxy_cache',
  'proxy_cache_key',
  'keepalive_timeout',
  'client_header_timeout',
  'client_body_timeout',
  'send_timeout',
  'ssl_certificate',
  'ssl_certificate_key',
  'ssl_client_certificate',
  'ssl_verify_client',
  'ssl_verify_depth',
  'ssl_protocols',
  'ssl_ciphers',
]);

const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

const VERIFY_CLIENT: Record<string, Settings['sslVerifyClient']> = {
  on: 'required',
  off: 'off',
  optional: 'optional',
  optional_no_ca: 'optional_no_ca',
};

/** Collect the settings written directly at one level. */
export function collectSettings(ctx: CompileContext, directives: NginxDirective[]): Settings {
  const s: Settings = {};
  const seen = new Set<string>();
  const single = <K extends keyof Settings>(d: NginxDirective, key: K, value: Settings[K]): void => {
    if (seen.has(d.name)) ctx.fail(`"${d.name}" directive is duplicate`, d);
    seen.add(d.name);
    s[key] = value;
  };
  for (const d of directives) {
    if (!SETTING_DIRECTIVES.has(d.name)) continue;
    const a0 = d.args[0]!;
    switch (d.name) {
      case 'proxy_set_header':
        (s.proxySetHeaders ??= []).push({ name: a0.value, value: d.args[1]!.value });
        break;
      case 'add_header': {
        const flag = d.args[2];
        if (flag && flag.value !== 'always') ctx.fail(`invalid parameter "${flag.value}"`, flag);
        (s.addHeaders ??= []).push({ name: a0.value, value: d.args[1]!.value, always: flag !== undefined });
        break;
      }
      case 'auth_request_set':
        (s.authRequestSet ??= []).push({ variable: ctx.variableName(d, a0), value: d.args[1]!.value });
        break;
      case 'proxy_cache_valid': {
        const codes = d.args.slice(0, -1).map((a) => {
          if (a.value !== 'any' && !/^[1-5]\d\d$/.test(a.value)) ctx.fail(`invalid status "${a.value}"`, a);
          return a.value;
        });
        (s.cacheValid ??= []).push({ codes, ms: ctx.time(d, d.args.length - 1), at: d });
        break;
      }
      case 'proxy_http_version':
        if (a0.value !== '1.0' && a0.value !== '1.1') {
          ctx.fail(`invalid value "${a0.value}" in "${d.name}" directive, it must be "1.0" or "1.1"`, a0);
        }
        single(d, 'proxyHttpVersion', a0.value);
        break;
      case 'proxy_ssl_verify':
        single(d, 'proxySslVerify', ctx.flag(d));
        break;
      case 'proxy_ssl_server_name':
        single(d, 'proxySslServerName', ctx.flag(d));
        break;
      case 'proxy_ssl_name':
        if (a0.value.includes('$')) ctx.fail('variables in "proxy_ssl_name" are not supported', a0);
        single(d, 'proxySslName', a0);
        break;
      case 'proxy_ssl_trusted_certificate':
        single(d, 'proxySslTrustedCertificate', a0.value);
        break;
      case 'proxy_ssl_verify_depth':
        single(d, 'proxySslVerifyDepth', ctx.integer(d));
        break;
      case 'proxy_ssl_certificate':
        single(d, 'proxySslCertificate', a0.value);
        break;
      case 'proxy_ssl_certificate_key':
        single(d, 'proxySslCertificateKey', a0.value);
        break;
      case 'proxy_read_timeout':
        single(d, 'readTimeoutMs', ctx.time(d));
        break;
      case 'proxy_connect_timeout':
        single(d, 'connectTimeoutMs', ctx.time(d));
        break;
      case 'proxy_send_timeout':
        single(d, 'sendTimeoutMs', ctx.time(d));
        break;
      case 'proxy_request_buffering':
        single(d, 'requestBuffering', ctx.flag(d));
        break;
      case 'client_max_body_size':
        single(d, 'maxBodySize', ctx.size(d));
        break;
      case 'auth_request':
        single(d, 'authRequest', a0.value === 'off' ? null : a0.value);
        break;
      case 'proxy_cache':
        single(d, 'cache', a0.value === 'off' ? null : { zone: a0.value, at: d });
        break;
      case 'proxy_cache_key':
        single(d, 'cacheKey', a0.value);
        break;
      case 'keepalive_timeout':
        single(d, 'keepaliveTimeoutMs', ctx.time(d));
        if (d.args[1]) {
          single(d, 'keepaliveHeader', true);
          ctx.notice(
            'the "Keep-Alive: timeout=" field carries the first argument of "keepalive_timeout", not its second',
            d,
          );
        }
        break;
      case 'client_header_timeout':
        single(d, 'headerTimeoutMs', ctx.time(d));
        break;
      case 'client_body_timeout':
        single(d, 'bodyTimeoutMs', ctx.time(d));
        break;
      case 'send_timeout':
        single(d, 'clientSendTimeoutMs', ctx.time(d));
        break;
      case 'ssl_certificate':
        single(d, 'sslCertificate', a0);
        break;
      case 'ssl_certificate_key':
        single(d, 'sslCertificateKey', a0);
        break;
      case 'ssl_client_certificate':
        single(d, 'sslClientCertificate', a0);
        break;
      case 'ssl_verify_client': {
        const mode = VERIFY_CLIENT[a0.value];
        if (!mode) ctx.fail(`invalid value "${a0.value}" in "${d.name}" directive`, a0);
        single(d, 'sslVerifyClient', mode);
        break;
      }
      case 'ssl_verify_depth':
        single(d, 'sslVerifyDepth', ctx.integer(d));
        break;
      case 'ssl_protocols':
        single(d, 'sslProtocols', protocols(ctx, d));
        break;
      case 'ssl_ciphers':
        single(d, 'sslCiphers', a0.value);
        break;
    }
  }
  return s;
}

function protocols(ctx: CompileContext, d: NginxDirective): { min: TlsVersion; max: TlsVersion } {
  const ranks: number[] = [];
  for (const a of d.args) {
    if (a.value === 'SSLv2' || a.value === 'SSLv3') {
      ctx.notice(`"ssl_protocols": ${a.value} is not supported and is ignored`, a);
      continue;
    }
    const rank = TLS_VERSIONS.indexOf(a.value as TlsVersion);
    if (rank < 0) ctx.fail(`invalid value "${a.value}" in "${d.name}" directive`, a);
    ranks.push(rank);
  }
  if (ranks.length === 0) ctx.fail('"ssl_protocols" enables no supported protocol', d);
  const min = Math.min(...ranks);
  const max = Math.max(...ranks);
  if (max - min + 1 !== new Set(ranks).size) {
    ctx.notice(`"ssl_protocols" with gaps is widened to ${TLS_VERSIONS[min]}..${TLS_VERSIONS[max]}`, d);
  }
  return { min: TLS_VERSIONS[min]!, max: TLS_VERSIONS[max]! };
}

/** nginx's merge: a child's own value (scalar or whole list) wins, otherwise the parent's. A list is
 *  set at a level as soon as one of its directives appears there, so it replaces the parent's list. */
export function mergeSettings(parent: Settings, child: Settings): Settings {
  const out: Settings = { ...parent };
  for (const key of Object.keys(child) as Array<keyof Settings>) {
    if (child[key] !== undefined) (out as Record<string, unknown>)[key] = child[key];
  }
  return out;
}
