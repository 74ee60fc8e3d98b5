// The native configuration of the engine. Product adapters (gateway, iot-module) translate their
// dialects into this shape; the engine is configured only through it (Caddy's model).
// Durations are milliseconds, sizes are bytes. Everything optional has a documented default.

/** A value computed per request from literals and variables, e.g. `"https://$host$request_uri"`.
 *  Variables use nginx names: `$uri`, `$request_uri`, `$args`, `$is_args`, `$host`, `$http_<name>`,
 *  `$scheme`, `$remote_addr`, `$request_method`, `$server_port`, `$ssl_client_escaped_cert`,
 *  `$upstream_http_<name>` (after an auth subrequest), `$1`…`$9` and named regex captures, and any
 *  variable defined by `set` or `maps`. `${name}` delimits a name. `$$` is a literal `$`. */
export type Template = string;

export interface GatehouseConfig {
  /** Virtual servers. Each listens on one or more addresses and has its own routes. */
  servers: ServerConfig[];
  /** Named upstreams that routes refer to. A route may also name a URL template directly. */
  upstreams?: Record<string, UpstreamConfig>;
  /** nginx `map`: variables computed lazily from a source template, shared by all servers. */
  maps?: MapConfig[];
  limits?: LimitsConfig;
  headers?: HeaderPolicy;
  log?: LogConfig;
  admin?: AdminConfig;
  /** Host name → address overrides for upstream DNS (tests, layered loopback set-ups, Docker names). */
  hosts?: Record<string, string>;
  /** Egress proxy for upstream requests; `"env"` reads HTTP_PROXY/HTTPS_PROXY/NO_PROXY. */
  egressProxy?: EgressProxyConfig | 'env';
  /** How long SIGTERM/close waits for in-flight requests before closing sockets. Default 10000. */
  drainTimeoutMs?: number;
  /** edgemicro-style plugins for routes that name them (`RouteConfig.plugins`), loaded by the CLI. */
  plugins?: PluginsConfig;
}

export interface PluginsConfig {
  /** Directory with one sub-directory (package.json + index.js) per plugin; relative to the config file. */
  dir: string;
  /** Per-plugin sections (`config[pluginName]`) and shared sections passed to `init`. */
  config?: Record<string, unknown>;
  /** Bound on a hook that never calls next (ms). Default: the server's requestTimeoutMs. */
  hookTimeoutMs?: number;
}

export interface ServerConfig {
  /** Name used in logs and metrics. Default `server<i>`. */
  name?: string;
  listen: ListenConfig[];
  /** Host names this server answers for (first matching server wins; else the default server). */
  serverNames?: string[];
  tls?: ServerTlsConfig;
  /** Statements run before route selection (nginx server-level `if`/`rewrite`/`set`/`return`). */
  rewrite?: Statement[];
  routes: RouteConfig[];
  /** Override of the global limits for this server (merged key by key). */
  limits?: LimitsConfig;
  /** Headers added to every response of this server (nginx `add_header` at server level). */
  addResponseHeaders?: HeaderSet[];
  /** Path hardening for upstreams that read paths more loosely than nginx does. */
  paths?: PathPolicy;
  /** Forward request fields whose names contain `_` (nginx `underscores_in_headers`). Default false:
   *  they are dropped and counted (`gatehouse_request_fields_dropped_total`), because CGI-style
   *  backends map `X_Forwarded_For` and `X-Forwarded-For` to the same variable, letting a client
   *  spoof what the proxy vouches for. */
  underscoresInHeaders?: boolean;
  /** Error renderer for this server's error answers, by name: `json` (built in, the default) or one
   *  registered with `createGatehouse({ errorRenderers })`. */
  errors?: string;
}

/** Routes are matched byte-wise on the decoded, normalised path (nginx's `$uri`) by default. An upstream
 *  that ignores case or strips trailing dots (IIS, Windows file systems, some frameworks) sees
 *  `/SECURE` or `/secure.` as `/secure`: these options keep such variants from slipping past a route
 *  that guards `/secure`. */
export interface PathPolicy {
  /** Match exact, prefix and base-path routes ignoring ASCII case; regex routes become case-insensitive.
   *  Default false. */
  ignoreCase?: boolean;
  /** Refuse (400 `ambiguous_path`) a path with a segment that ends in `.` or whitespace. Default false. */
  refuseTrailingDots?: boolean;
}

export interface ListenConfig {
  /** IP address to bind. Default `127.0.0.1`. Use `0.0.0.0` or `::` for all interfaces. */
  address?: string;
  /** TCP port; 0 asks the OS for a free one (read it back from `gatehouse.addresses()`). */
  port: number;
  /** Terminate TLS on this listener with the server's `tls` settings. */
  tls?: boolean;
  /** Offer HTTP/2 via ALPN on a TLS listener (h2 and http/1.1 on the same port). Default true with tls. */
  http2?: boolean;
  /** Accept cleartext HTTP/2 prior-knowledge (h2c) on a plain listener. Default false. */
  h2c?: boolean;
  /** Marks the default server for this address:port (nginx `default_server`). */
  defaultServer?: boolean;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface CertificateSource {
  /** PEM files (watched for changes) … */
  certFile?: string;
  keyFile?: string;
  /** … or PEM in memory … */
  cert?: string;
  key?: string;
  /** … or a PKCS#12 file. */
  pfxFile?: string;
  passphrase?: string;
}

export interface ServerTlsConfig {
  /** Default certificate (used when SNI matches nothing). */
  certificate?: CertificateSource;
  /** Extra certificates selected by SNI: host names are taken from each certificate's SANs/CN unless given. */
  sni?: Array<CertificateSource & { serverNames?: string[] }>;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** OpenSSL cipher list (TLS 1.2 and below) as nginx `ssl_ciphers`. */
  ciphers?: string;
  clientCertificate?: {
    /** off | optional (verify when sent) | optional_no_ca (request, do not verify) | required */
    mode: 'off' | 'optional' | 'optional_no_ca' | 'required';
    /** CA bundle used to verify and advertised to clients (PEM file or inline PEM). */
    caFile?: string;
    ca?: string;
    verifyDepth?: number;
  };
  /** Watch certificate files and swap them in when they change. Default true. */
  watch?: boolean;
}

export interface UpstreamTlsConfig {
  /** Verify the upstream certificate. Default true. */
  verify?: boolean;
  caFile?: string;
  ca?: string;
  /** Client certificate for mTLS to the upstream. */
  certFile?: string;
  keyFile?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  /** Send SNI (nginx `proxy_ssl_server_name`). Default true for host names, never for IP literals. */
  serverName?: boolean;
  /** Name used for SNI and certificate verification instead of the URL host (nginx `proxy_ssl_name`). */
  name?: string;
  verifyDepth?: number;
  minVersion?: TlsVersion;
}

export interface UpstreamConfig {
  /** Origin, e.g. `http://127.0.0.1:8080`. A path part is the base of the target path for base-path routes. */
  url: string;
  tls?: UpstreamTlsConfig;
  /** Default 60000 (nginx `proxy_connect_timeout`). */
  connectTimeoutMs?: number;
  /** Max idle time between bytes of the response (nginx `proxy_read_timeout`). Default 60000. */
  readTimeoutMs?: number;
  /** Max idle time while sending the request body (nginx `proxy_send_timeout`). Default 60000. */
  sendTimeoutMs?: number;
  /** Max connections per origin in the keep-alive pool. Default 128. */
  maxConnections?: number;
  /** Requests that may wait for a pool connection when all `maxConnections` are busy; one more is
   *  answered 503 `upstream_busy` at once. Default 1024; 0 = none wait. */
  maxQueued?: number;
  /** Time a request may wait for a pool connection before it is answered 503 `upstream_busy`.
   *  Default 10000; 0 = no bound. */
  queueTimeoutMs?: number;
  /** Idle keep-alive time of pooled connections. Default 4000 (below typical upstream keepalive_timeout). */
  keepAliveTimeoutMs?: number;
  /** Reuse connections to this upstream. Default true. */
  keepAlive?: boolean;
}

export type RouteMatch =
  /** edgemicro base path: longest wins, segment boundary (`/v1` ≠ `/v1x`). */
  | { basePath: string }
  /** nginx `location = /x` */
  | { exact: string }
  /** nginx `location /x` (or `^~ /x` with `stopRegex`). */
  | { prefix: string; stopRegex?: boolean }
  /** nginx `location ~ re` / `~* re`; captures become `$1`… and named variables. */
  | { regex: string; caseInsensitive?: boolean };

export interface RouteConfig {
  /** Stable name used in metrics and logs. Default derived from the match. */
  name?: string;
  match: RouteMatch;
  /** Only reachable from an internal redirect or subrequest (nginx `internal`). */
  internal?: boolean;
  /** Statements run after this route is selected (nginx location-level rewrite/set/if/return). */
  rewrite?: Statement[];
  /** What to do with the request. */
  action: RouteAction;
  /** Limit on the request body for this route (nginx `client_max_body_size`; 0 = unlimited). */
  maxBodySize?: number;
  /** Plugins applied to this route, in order; resolved by name in the plugin registry. */
  plugins?: string[];
  /** nginx `auth_request`: an internal subrequest that must answer 2xx before proxying. */
  authRequest?: { uri: string; set?: Array<{ variable: string; value: Template }> };
  /** Headers added to the response (nginx `add_header`). */
  addResponseHeaders?: HeaderSet[];
  /** Error renderer for this route's error answers, by name; default: the server's. */
  errors?: string;
}

export type RouteAction = ProxyAction | ReturnAction;

export interface ProxyAction {
  type: 'proxy';
  /** Name of an entry in `upstreams`, or a URL template (nginx `proxy_pass`). */
  upstream: string;
  /**
   * How the upstream request target is built:
   * - `request_uri` (default): the client's raw target, byte-exact (nginx proxy_pass without URI part);
   * - `replace_prefix`: the matched prefix of the normalised URI is replaced by the upstream URL's path
   *   (nginx proxy_pass with a URI part on a prefix location);
   * - `base_path`: edgemicro: upstream path + the raw remainder after the base path, query kept;
   * - `url`: the evaluated upstream URL's path and query are sent as they are (nginx variable proxy_pass
   *   with a URI part).
   */
  target?: 'request_uri' | 'replace_prefix' | 'base_path' | 'url';
  /** Headers set on the upstream request; an empty evaluated value removes the header (nginx). */
  setHeaders?: HeaderSet[];
  /** Host header sent upstream: `preserve` (client's), `upstream` (the URL's host:port, nginx default), or a template. Default `upstream`. */
  host?: 'preserve' | 'upstream' | { template: Template };
  /** Per-route upstream overrides (timeouts, tls) when `upstream` is a URL template. */
  options?: Omit<UpstreamConfig, 'url'>;
  /** Cache upstream responses of this (internal) route in memory: nginx `proxy_cache` + `proxy_cache_valid`. */
  cache?: { key: Template; validMs: number; maxEntries?: number };
  /** Upgrade protocols relayed on this route (`Upgrade` tokens, compared without case or version):
   *  `true` = `["websocket"]` (the default), `false` = none. A request asking for any other protocol
   *  (e.g. `h2c`, whose tunnel would bypass every route and plugin) is served as a plain request with
   *  `Upgrade` and `HTTP2-Settings` removed, as nginx does. */
  upgrade?: boolean | string[];
  /** Send `Connection: close` upstream and do not pool (nginx `proxy_http_version 1.0`-like behaviour). */
  keepAlive?: boolean;
  /** Read the request body whole (memory, then a temporary file) before it takes an upstream
   *  connection, and send it with Content-Length (nginx `proxy_request_buffering`). `false` streams
   *  it as it arrives (each slow upload then holds an upstream connection). Default true. */
  requestBuffering?: boolean;
}

export interface ReturnAction {
  type: 'return';
  status: number;
  /** Body template, or for 301/302/303/307/308 the Location template. */
  body?: Template;
  headers?: HeaderSet[];
}

export interface HeaderSet {
  name: string;
  value: Template;
}

/** A rewrite-phase statement (nginx ngx_http_rewrite_module). */
export type Statement =
  | { type: 'if'; condition: Condition; then: Statement[] }
  | {
      type: 'rewrite';
      regex: string;
      replacement: Template;
      flag?: 'last' | 'break' | 'redirect' | 'permanent';
    }
  | { type: 'set'; variable: string; value: Template }
  | { type: 'return'; status: number; body?: Template };

export type Condition =
  /** True unless the value is empty or "0" (nginx variable truthiness). */
  | { type: 'truthy'; value: Template }
  | { type: 'equals'; value: Template; to: Template; negate?: boolean }
  | { type: 'matches'; value: Template; regex: string; caseInsensitive?: boolean; negate?: boolean };

export interface MapConfig {
  source: Template;
  variable: string;
  /** Exact string keys (nginx map entries without `~`); `""` matches an empty source. */
  entries?: Array<{ key: string; value: Template }>;
  /** Regex keys (`~re`, `~*re`), tried in order after exact keys. */
  regexEntries?: Array<{ regex: string; caseInsensitive?: boolean; value: Template }>;
  default?: Template;
}

export interface LimitsConfig {
  /** Max simultaneous client connections per listener. Default 10000. */
  maxConnections?: number;
  /** Max bytes of the request head. Default 16384. Over it → 431. */
  maxHeaderSize?: number;
  /** Default request body limit (a route may override). Default 0 = unlimited. */
  maxBodySize?: number;
  /** Time to receive the whole request head. Default 10000. */
  headersTimeoutMs?: number;
  /** Time to receive the whole request (head + body). Default 300000; 0 = off. */
  requestTimeoutMs?: number;
  /** Longest time between two successive reads of a request body, not a total (nginx
   *  `client_body_timeout`); time when the engine itself stopped reading does not count. On expiry:
   *  408 and the connection closed when no response has begun, else the connection is cut; an
   *  upstream exchange under way is aborted. HTTP/1.1 only. Default 60000; 0 = off. */
  clientBodyTimeoutMs?: number;
  /** Longest time between two successive writes of a response to a client that does not take them,
   *  not a total (nginx `send_timeout`). On expiry the connection is closed, the upstream exchange
   *  aborted, and the access log records `send_timeout`. HTTP/1.1 only. Default 60000; 0 = off. */
  sendTimeoutMs?: number;
  /** Idle time of a kept-alive client connection between requests. Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Send `Keep-Alive: timeout=<keepAliveTimeoutMs in s>` on kept-alive HTTP/1.1 responses. Default true
   *  (nginx sends none unless `keepalive_timeout` has its second argument). */
  keepAliveHeader?: boolean;
  /** Idle time of an upgraded (WebSocket) tunnel. Default 3600000. */
  upgradeIdleTimeoutMs?: number;
  /** Max requests on one client connection. Default 0 = unlimited. */
  maxRequestsPerConnection?: number;
  /** Minimum average rate (bytes/s) at which a client must send a request head and body, measured
   *  from the start of the request once `minRequestDataRateGraceMs` has passed (Kestrel's
   *  MinRequestBodyDataRate); slower → 408 and the connection is closed. Time when the engine itself
   *  stopped reading (its consumer was full) does not count. HTTP/1.1 only. Default 240; 0 = off. */
  minRequestDataRate?: number;
  /** Grace before the minimum data rate applies. Default 5000. */
  minRequestDataRateGraceMs?: number;
  /** Request bodies are read whole before they take an upstream connection (see
   *  `ProxyAction.requestBuffering`): this many bytes in memory, the rest in a temporary file
   *  (unlinked at once, in `os.tmpdir()`). Default 16384 (nginx `client_body_buffer_size`). */
  bodyBufferMemory?: number;
  /** Largest body buffered: one declared larger is streamed instead (with its Content-Length). A
   *  chunked body is spooled up to the route's or server's `maxBodySize` when one is set (nginx
   *  spools up to `client_max_body_size`), else up to this bound, past which it is refused (413).
   *  Default 1073741824 (1 GiB). */
  bodyBufferMaxSize?: number;
}

export interface HeaderPolicy {
  /** `append` to the client's X-Forwarded-For, `replace` it, or `off` (leave as sent). Default `append`. */
  xForwardedFor?: 'append' | 'replace' | 'off';
  /** Set X-Forwarded-Proto / X-Forwarded-Host when absent (`set`), always (`replace`), or not (`off`). Default `off`. */
  xForwardedProto?: 'set' | 'replace' | 'off';
  xForwardedHost?: 'set' | 'replace' | 'off';
  /** Add a `Via` entry (`1.1 <via>`) upstream and downstream. Default off (undefined). */
  via?: string;
  /** Add an RFC 7239 `Forwarded` element. Default false. */
  forwarded?: boolean;
}

export interface LogConfig {
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Access log: true → stdout, a path → that file, false → off. Default false. */
  access?: boolean | string;
}

export interface AdminConfig {
  /** Loopback by default. */
  address?: string;
  port: number;
}

export interface EgressProxyConfig {
  /** Proxy for http:// targets (absolute-form requests). */
  http?: string;
  /** Proxy for https:// targets (CONNECT tunnel). */
  https?: string;
  /** NO_PROXY rules: `host`, `.suffix`, `host:port`, `*`. */
  noProxy?: string[];
  /** Reach http:// targets through a CONNECT tunnel too, instead of absolute-form requests
   *  (edgemicro `proxy.tunnel`). Default false. */
  tunnel?: boolean;
}
