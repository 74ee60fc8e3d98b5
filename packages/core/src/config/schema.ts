// The native configuration of the engine, as a schema: the config types (config/types.ts) are derived
// from it, and scripts/config-validator.mjs compiles it into the standalone validator
// (validator.generated.ts). Product adapters (gateway, iot-module) translate their dialects into this
// shape; the engine is configured only through it (Caddy's model).
// Durations are milliseconds, sizes are bytes. Everything optional has a documented default.
//
// Only the build script and the type checker read this module: nothing at run time imports it, so the
// engine never loads TypeBox. Annotations read by config/schema-problems.ts: `expected` (what the
// message says was expected), `patternMessage` (message when `pattern` fails), `minItemsMessage`.
import {
  Type,
  type ObjectOptions,
  type SchemaOptions,
  type TLiteral,
  type TUnion,
  type TProperties,
  type TSchema,
} from '@sinclair/typebox';

const MAX_MS = 2 ** 31 - 1;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const TOKEN = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";

/** Objects refuse unknown keys: a misspelt option must not be silently ignored. */
const Obj = <T extends TProperties>(properties: T, options?: ObjectOptions) =>
  Type.Object(properties, { additionalProperties: false, ...options });
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const Int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const Ms = () => Int(0, MAX_MS);
const Size = () => Int(0, MAX_SIZE);
const Bool = () => Type.Boolean();
const Str = (options?: SchemaOptions) => Type.String({ minLength: 1, ...options });
type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };
/** A literal-string union (an enum). */
function OneOf<const T extends readonly string[]>(...values: T): TUnion<Literals<T>> {
  return Type.Union(values.map((v) => Type.Literal(v))) as TUnion<Literals<T>>;
}
const Path = () => Str({ pattern: '^/', expected: 'a path starting with "/"' });

/** A value computed per request from literals and variables, e.g. `"https://$host$request_uri"`.
 *  Variables use nginx names: `$uri`, `$request_uri`, `$args`, `$is_args`, `$host`, `$http_<name>`,
 *  `$scheme`, `$remote_addr`, `$request_method`, `$server_port`, `$ssl_client_escaped_cert`,
 *  `$upstream_http_<name>` (after an auth subrequest), `$1`…`$9` and named regex captures, and any
 *  variable defined by `set` or `maps`. `${name}` delimits a name. `$$` is a literal `$`. */
export const Template = Type.String();

export const HeaderSet = Obj({
  name: Str({ pattern: TOKEN, patternMessage: 'not a valid header name' }),
  value: Template,
});

export const TlsVersion = OneOf('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3');

const certificateFields = {
  /** PEM files (watched for changes) … */
  certFile: Opt(Str()),
  keyFile: Opt(Str()),
  /** … or PEM in memory … */
  cert: Opt(Str()),
  key: Opt(Str()),
  /** … or a PKCS#12 file. */
  pfxFile: Opt(Str()),
  passphrase: Opt(Str()),
};

export const CertificateSource = Obj(certificateFields);

export const ServerTlsConfig = Obj({
  /** Default certificate (used when SNI matches nothing). */
  certificate: Opt(CertificateSource),
  /** Extra certificates selected by SNI: host names are taken from each certificate's SANs/CN unless given. */
  sni: Opt(Type.Array(Obj({ ...certificateFields, serverNames: Opt(Type.Array(Str())) }))),
  minVersion: Opt(TlsVersion),
  maxVersion: Opt(TlsVersion),
  /** OpenSSL cipher list (TLS 1.2 and below) as nginx `ssl_ciphers`. */
  ciphers: Opt(Str()),
  clientCertificate: Opt(
    Obj({
      /** off | optional (verify when sent) | optional_no_ca (request, do not verify) | required */
      mode: OneOf('off', 'optional', 'optional_no_ca', 'required'),
      /** CA bundle used to verify and advertised to clients (PEM file or inline PEM). */
      caFile: Opt(Str()),
      ca: Opt(Str()),
      verifyDepth: Opt(Int(0, 100)),
    }),
  ),
  /** Watch certificate files and swap them in when they change. Default true. */
  watch: Opt(Bool()),
});

export const UpstreamTlsConfig = Obj({
  /** Verify the upstream certificate. Default true. */
  verify: Opt(Bool()),
  caFile: Opt(Str()),
  ca: Opt(Str()),
  /** Client certificate for mTLS to the upstream. */
  certFile: Opt(Str()),
  keyFile: Opt(Str()),
  cert: Opt(Str()),
  key: Opt(Str()),
  passphrase: Opt(Str()),
  /** Send SNI (nginx `proxy_ssl_server_name`). Default true for host names, never for IP literals. */
  serverName: Opt(Bool()),
  /** Name used for SNI and certificate verification instead of the URL host (nginx `proxy_ssl_name`). */
  name: Opt(Str()),
  verifyDepth: Opt(Int(0, 100)),
  minVersion: Opt(TlsVersion),
});

const upstreamOptions = {
  tls: Opt(UpstreamTlsConfig),
  /** Default 60000 (nginx `proxy_connect_timeout`). */
  connectTimeoutMs: Opt(Ms()),
  /** Max idle time between bytes of the response (nginx `proxy_read_timeout`). Default 60000. */
  readTimeoutMs: Opt(Ms()),
  /** Max idle time while sending the request body (nginx `proxy_send_timeout`). Default 60000. */
  sendTimeoutMs: Opt(Ms()),
  /** Max connections per origin in the keep-alive pool. Default 128. */
  maxConnections: Opt(Int(1, 100_000)),
  /** Requests that may wait for a pool connection when all `maxConnections` are busy; one more is
   *  answered 503 `upstream_busy` at once. Default 1024; 0 = none wait. */
  maxQueued: Opt(Int(0, 1_000_000)),
  /** Time a request may wait for a pool connection before it is answered 503 `upstream_busy`.
   *  Default 10000; 0 = no bound. */
  queueTimeoutMs: Opt(Ms()),
  /** Idle keep-alive time of pooled connections. Default 4000 (below typical upstream keepalive_timeout). */
  keepAliveTimeoutMs: Opt(Ms()),
  /** Reuse connections to this upstream. Default true. */
  keepAlive: Opt(Bool()),
};

export const UpstreamConfig = Obj({
  /** Origin, e.g. `http://127.0.0.1:8080`. A path part is the base of the target path for base-path routes. */
  url: Str(),
  ...upstreamOptions,
});

export const RouteMatch = Type.Union(
  [
    /** edgemicro base path: longest wins, segment boundary (`/v1` ≠ `/v1x`). */
    Obj({ basePath: Path() }),
    /** nginx `location = /x` */
    Obj({ exact: Str() }),
    /** nginx `location /x` (or `^~ /x` with `stopRegex`). */
    Obj({ prefix: Type.String(), stopRegex: Opt(Bool()) }),
    /** nginx `location ~ re` / `~* re`; captures become `$1`… and named variables. */
    Obj({ regex: Str(), caseInsensitive: Opt(Bool()) }),
  ],
  { expected: 'one of basePath, exact, prefix or regex' },
);

export const Condition = Type.Union(
  [
    /** True unless the value is empty or "0" (nginx variable truthiness). */
    Obj({ type: Type.Literal('truthy'), value: Template }),
    Obj({ type: Type.Literal('equals'), value: Template, to: Template, negate: Opt(Bool()) }),
    Obj({
      type: Type.Literal('matches'),
      value: Template,
      regex: Str(),
      caseInsensitive: Opt(Bool()),
      negate: Opt(Bool()),
    }),
  ],
  { expected: 'a condition object' },
);

/** A rewrite-phase statement (nginx ngx_http_rewrite_module). */
export const Statement = Type.Recursive(
  (This) =>
    Type.Union(
      [
        Obj({ type: Type.Literal('if'), condition: Condition, then: Type.Array(This) }),
        Obj({
          type: Type.Literal('rewrite'),
          regex: Str(),
          replacement: Str(),
          flag: Opt(OneOf('last', 'break', 'redirect', 'permanent')),
        }),
        Obj({ type: Type.Literal('set'), variable: Str(), value: Template }),
        Obj({ type: Type.Literal('return'), status: Int(100, 999), body: Opt(Template) }),
      ],
      { expected: 'a statement object' },
    ),
  { $id: 'Statement' },
);

export const ProxyAction = Obj({
  type: Type.Literal('proxy'),
  /** Name of an entry in `upstreams`, or a URL template (nginx `proxy_pass`). */
  upstream: Str(),
  /**
   * How the upstream request target is built:
   * - `request_uri` (default): the client's raw target, byte-exact (nginx proxy_pass without URI part);
   * - `replace_prefix`: the matched prefix of the normalised URI is replaced by the upstream URL's path
   *   (nginx proxy_pass with a URI part on a prefix location);
   * - `base_path`: edgemicro: upstream path + the raw remainder after the base path, query kept;
   * - `url`: the evaluated upstream URL's path and query are sent as they are (nginx variable proxy_pass
   *   with a URI part).
   */
  target: Opt(OneOf('request_uri', 'replace_prefix', 'base_path', 'url')),
  /** Headers set on the upstream request; an empty evaluated value removes the header (nginx). */
  setHeaders: Opt(Type.Array(HeaderSet)),
  /** Host header sent upstream: `preserve` (client's), `upstream` (the URL's host:port, nginx default), or a template. Default `upstream`. */
  host: Opt(
    Type.Union([Type.Literal('preserve'), Type.Literal('upstream'), Obj({ template: Str() })], {
      expected: '"preserve", "upstream" or a { template } object',
    }),
  ),
  /** Per-route upstream overrides (timeouts, tls) when `upstream` is a URL template. */
  options: Opt(Obj(upstreamOptions)),
  /** Cache upstream responses of this (internal) route in memory: nginx `proxy_cache` + `proxy_cache_valid`. */
  cache: Opt(Obj({ key: Template, validMs: Ms(), maxEntries: Opt(Int(1, 1_000_000)) })),
  /** Upgrade protocols relayed on this route (`Upgrade` tokens, compared without case or version):
   *  `true` = `["websocket"]` (the default), `false` = none. A request asking for any other protocol
   *  (e.g. `h2c`, whose tunnel would bypass every route and plugin) is served as a plain request with
   *  `Upgrade` and `HTTP2-Settings` removed, as nginx does. */
  upgrade: Opt(
    Type.Union([Bool(), Type.Array(Str({ pattern: TOKEN, patternMessage: 'not a protocol name' }))], {
      expected: 'true, false or a list of protocol names',
    }),
  ),
  /** Send `Connection: close` upstream and do not pool (nginx `proxy_http_version 1.0`-like behaviour). */
  keepAlive: Opt(Bool()),
  /** Read the request body whole (memory, then a temporary file) before it takes an upstream
   *  connection, and send it with Content-Length (nginx `proxy_request_buffering`). `false` streams
   *  it as it arrives (each slow upload then holds an upstream connection). Default true. */
  requestBuffering: Opt(Bool()),
});

export const ReturnAction = Obj({
  type: Type.Literal('return'),
  status: Int(100, 999),
  /** Body template, or for 301/302/303/307/308 the Location template. */
  body: Opt(Template),
  headers: Opt(Type.Array(HeaderSet)),
});

const RouteAction = Type.Union([ProxyAction, ReturnAction], { expected: 'an action object' });

export const RouteConfig = Obj({
  /** Stable name used in metrics and logs. Default derived from the match. */
  name: Opt(Str()),
  match: RouteMatch,
  /** Only reachable from an internal redirect or subrequest (nginx `internal`). */
  internal: Opt(Bool()),
  /** Statements run after this route is selected (nginx location-level rewrite/set/if/return). */
  rewrite: Opt(Type.Array(Statement)),
  /** What to do with the request. */
  action: RouteAction,
  /** Limit on the request body for this route (nginx `client_max_body_size`; 0 = unlimited). */
  maxBodySize: Opt(Size()),
  /** Plugins applied to this route, in order; resolved by name in the plugin registry. */
  plugins: Opt(Type.Array(Str())),
  /** nginx `auth_request`: an internal subrequest that must answer 2xx before proxying. */
  authRequest: Opt(Obj({ uri: Path(), set: Opt(Type.Array(Obj({ variable: Str(), value: Template }))) })),
  /** Headers added to the response (nginx `add_header`). */
  addResponseHeaders: Opt(Type.Array(HeaderSet)),
  /** Error renderer for this route's error answers, by name; default: the server's. */
  errors: Opt(Str()),
});

export const ListenConfig = Obj({
  /** IP address to bind. Default `127.0.0.1`. Use `0.0.0.0` or `::` for all interfaces. */
  address: Opt(Str()),
  /** TCP port; 0 asks the OS for a free one (read it back from `gatehouse.addresses()`). */
  port: Int(0, 65535),
  /** Terminate TLS on this listener with the server's `tls` settings. */
  tls: Opt(Bool()),
  /** Offer HTTP/2 via ALPN on a TLS listener (h2 and http/1.1 on the same port). Default true with tls. */
  http2: Opt(Bool()),
  /** Accept cleartext HTTP/2 prior-knowledge (h2c) on a plain listener. Default false. */
  h2c: Opt(Bool()),
  /** Marks the default server for this address:port (nginx `default_server`). */
  defaultServer: Opt(Bool()),
});

/** Routes are matched byte-wise on the decoded, normalised path (nginx's `$uri`) by default. An upstream
 *  that ignores case or strips trailing dots (IIS, Windows file systems, some frameworks) sees
 *  `/SECURE` or `/secure.` as `/secure`: these options keep such variants from slipping past a route
 *  that guards `/secure`. */
export const PathPolicy = Obj({
  /** Match exact, prefix and base-path routes ignoring ASCII case; regex routes become case-insensitive.
   *  Default false. */
  ignoreCase: Opt(Bool()),
  /** Refuse (400 `ambiguous_path`) a path with a segment that ends in `.` or whitespace. Default false. */
  refuseTrailingDots: Opt(Bool()),
});

export const LimitsConfig = Obj({
  /** Max simultaneous client connections per listener. Default 10000. */
  maxConnections: Opt(Int(1, 10_000_000)),
  /** Max bytes of the request head. Default 16384. Over it → 431. */
  maxHeaderSize: Opt(Int(1024, 1024 * 1024)),
  /** Default request body limit (a route may override). Default 0 = unlimited. */
  maxBodySize: Opt(Size()),
  /** Time to receive the whole request head. Default 10000. */
  headersTimeoutMs: Opt(Ms()),
  /** Time to receive the whole request (head + body). Default 300000; 0 = off. */
  requestTimeoutMs: Opt(Ms()),
  /** Max time between two successive reads of the request body (nginx `client_body_timeout`).
   *  Default 60000; 0 = off. */
  clientBodyTimeoutMs: Opt(Ms()),
  /** Max time between two successive writes to the client that make progress (nginx `send_timeout`).
   *  Default 60000; 0 = off. */
  sendTimeoutMs: Opt(Ms()),
  /** Idle time of a kept-alive client connection between requests. Default 5000. */
  keepAliveTimeoutMs: Opt(Ms()),
  /** Send `Keep-Alive: timeout=<keepAliveTimeoutMs in s>` on kept-alive HTTP/1.1 responses. Default true
   *  (nginx sends none unless `keepalive_timeout` has its second argument). */
  keepAliveHeader: Opt(Bool()),
  /** Idle time of an upgraded (WebSocket) tunnel. Default 3600000. */
  upgradeIdleTimeoutMs: Opt(Ms()),
  /** Max requests on one client connection. Default 0 = unlimited. */
  maxRequestsPerConnection: Opt(Int(0, MAX_MS)),
  /** Minimum average rate (bytes/s) at which a client must send a request head and body, measured
   *  from the start of the request once `minRequestDataRateGraceMs` has passed (Kestrel's
   *  MinRequestBodyDataRate); slower → 408 and the connection is closed. Time when the engine itself
   *  stopped reading (its consumer was full) does not count. HTTP/1.1 only. Default 240; 0 = off. */
  minRequestDataRate: Opt(Int(0, 1024 * 1024 * 1024)),
  /** Grace before the minimum data rate applies. Default 5000. */
  minRequestDataRateGraceMs: Opt(Ms()),
  /** Request bodies are read whole before they take an upstream connection (see
   *  `ProxyAction.requestBuffering`): this many bytes in memory, the rest in a temporary file
   *  (unlinked at once, in `os.tmpdir()`). Default 16384 (nginx `client_body_buffer_size`). */
  bodyBufferMemory: Opt(Int(0, 64 * 1024 * 1024)),
  /** Largest body buffered: one declared larger is streamed instead, a chunked one growing past it
   *  is refused (413). Default 1073741824 (1 GiB). */
  bodyBufferMaxSize: Opt(Size()),
});

export const ServerConfig = Obj({
  /** Name used in logs and metrics. Default `server<i>`. */
  name: Opt(Str()),
  listen: Type.Array(ListenConfig, { minItems: 1, minItemsMessage: 'expected at least one listener' }),
  /** Host names this server answers for (first matching server wins; else the default server). */
  serverNames: Opt(Type.Array(Str())),
  tls: Opt(ServerTlsConfig),
  /** Statements run before route selection (nginx server-level `if`/`rewrite`/`set`/`return`). */
  rewrite: Opt(Type.Array(Statement)),
  routes: Type.Array(RouteConfig),
  /** Override of the global limits for this server (merged key by key). */
  limits: Opt(LimitsConfig),
  /** Headers added to every response of this server (nginx `add_header` at server level). */
  addResponseHeaders: Opt(Type.Array(HeaderSet)),
  /** Path hardening for upstreams that read paths more loosely than nginx does. */
  paths: Opt(PathPolicy),
  /** Forward request fields whose names contain `_` (nginx `underscores_in_headers`). Default false:
   *  they are dropped and counted (`gatehouse_request_fields_dropped_total`), because CGI-style
   *  backends map `X_Forwarded_For` and `X-Forwarded-For` to the same variable, letting a client
   *  spoof what the proxy vouches for. */
  underscoresInHeaders: Opt(Bool()),
  /** Error renderer for this server's error answers, by name: `json` (built in, the default) or one
   *  registered with `createGatehouse({ errorRenderers })`. */
  errors: Opt(Str()),
});

export const MapConfig = Obj({
  source: Template,
  variable: Str(),
  /** Exact string keys (nginx map entries without `~`); `""` matches an empty source. */
  entries: Opt(Type.Array(Obj({ key: Type.String(), value: Template }))),
  /** Regex keys (`~re`, `~*re`), tried in order after exact keys. */
  regexEntries: Opt(Type.Array(Obj({ regex: Str(), caseInsensitive: Opt(Bool()), value: Template }))),
  default: Opt(Template),
});

export const HeaderPolicy = Obj({
  /** `append` to the client's X-Forwarded-For, `replace` it, or `off` (leave as sent). Default `append`. */
  xForwardedFor: Opt(OneOf('append', 'replace', 'off')),
  /** Set X-Forwarded-Proto / X-Forwarded-Host when absent (`set`), always (`replace`), or not (`off`). Default `off`. */
  xForwardedProto: Opt(OneOf('set', 'replace', 'off')),
  xForwardedHost: Opt(OneOf('set', 'replace', 'off')),
  /** Add a `Via` entry (`1.1 <via>`) upstream and downstream. Default off (undefined). */
  via: Opt(Str()),
  /** Add an RFC 7239 `Forwarded` element. Default false. */
  forwarded: Opt(Bool()),
});

export const LogConfig = Obj({
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  level: Opt(OneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')),
  /** Access log: true → stdout, a path → that file, false → off. Default false. */
  access: Opt(Type.Union([Bool(), Type.String()], { expected: 'true, false or a file path' })),
});

export const AdminConfig = Obj({
  /** Loopback by default. */
  address: Opt(Str()),
  port: Int(0, 65535),
});

export const EgressProxyConfig = Obj({
  /** Proxy for http:// targets (absolute-form requests). */
  http: Opt(Str()),
  /** Proxy for https:// targets (CONNECT tunnel). */
  https: Opt(Str()),
  /** NO_PROXY rules: `host`, `.suffix`, `host:port`, `*`. */
  noProxy: Opt(Type.Array(Str())),
  /** Also tunnel http:// targets through CONNECT (edgemicro `edgemicro.proxy.tunnel`). Default false. */
  tunnel: Opt(Bool()),
});

export const PluginsConfig = Obj({
  /** Directory with one sub-directory (package.json + index.js) per plugin; relative to the config file. */
  dir: Str(),
  /** Per-plugin sections (`config[pluginName]`) and shared sections passed to `init`. */
  config: Opt(Type.Record(Type.String(), Type.Unknown())),
  /** Bound on a hook that never calls next (ms). Default: the server's requestTimeoutMs. */
  hookTimeoutMs: Opt(Ms()),
});

export const GatehouseConfig = Obj({
  /** Virtual servers. Each listens on one or more addresses and has its own routes. */
  servers: Type.Array(ServerConfig, { minItems: 1, minItemsMessage: 'expected at least one server' }),
  /** Named upstreams that routes refer to. A route may also name a URL template directly. */
  upstreams: Opt(Type.Record(Type.String(), UpstreamConfig)),
  /** nginx `map`: variables computed lazily from a source template, shared by all servers. */
  maps: Opt(Type.Array(MapConfig)),
  limits: Opt(LimitsConfig),
  headers: Opt(HeaderPolicy),
  log: Opt(LogConfig),
  admin: Opt(AdminConfig),
  /** Host name → address overrides for upstream DNS (tests, layered loopback set-ups, Docker names). */
  hosts: Opt(Type.Record(Type.String(), Str())),
  /** Egress proxy for upstream requests; `"env"` reads HTTP_PROXY/HTTPS_PROXY/NO_PROXY. */
  egressProxy: Opt(Type.Union([EgressProxyConfig, Type.Literal('env')], { expected: 'an object or "env"' })),
  /** How long SIGTERM/close waits for in-flight requests before closing sockets. Default 10000. */
  drainTimeoutMs: Opt(Ms()),
  /** edgemicro-style plugins for routes that name them (`RouteConfig.plugins`), loaded by the CLI. */
  plugins: Opt(PluginsConfig),
});
