// The config types, derived from the schema (config/schema.ts, where every field is documented) so
// that what the validator accepts and what the engine's code is typed against cannot drift apart.
// Types only: importing this module at run time loads nothing.
import type { Static } from '@sinclair/typebox';
import type * as Schema from './schema.js';

/** A value computed per request from literals and variables, e.g. `"https://$host$request_uri"`.
 *  Variables use nginx names: `$uri`, `$request_uri`, `$args`, `$is_args`, `$host`, `$http_<name>`,
 *  `$scheme`, `$remote_addr`, `$request_method`, `$server_port`, `$ssl_client_escaped_cert`,
 *  `$upstream_http_<name>` (after an auth subrequest), `$1`…`$9` and named regex captures, and any
 *  variable defined by `set` or `maps`. `${name}` delimits a name. `$$` is a literal `$`. */
export type Template = Static<typeof Schema.Template>;
/** The whole native configuration: servers, upstreams, maps, limits, headers, log, admin, plugins. */
export type GatehouseConfig = Static<typeof Schema.GatehouseConfig>;
/** edgemicro-style plugins: where they are loaded from and their configuration. */
export type PluginsConfig = Static<typeof Schema.PluginsConfig>;
/** A virtual server: listeners, host names, TLS, routes and per-server policies. */
export type ServerConfig = Static<typeof Schema.ServerConfig>;
/** Path hardening for upstreams that read paths more loosely than nginx does. */
export type PathPolicy = Static<typeof Schema.PathPolicy>;
/** One address:port a server listens on. */
export type ListenConfig = Static<typeof Schema.ListenConfig>;
export type TlsVersion = Static<typeof Schema.TlsVersion>;
/** A certificate and its key: PEM files, PEM in memory, or a PKCS#12 file. */
export type CertificateSource = Static<typeof Schema.CertificateSource>;
/** TLS termination of a server: certificates (default and by SNI), versions, client certificates. */
export type ServerTlsConfig = Static<typeof Schema.ServerTlsConfig>;
/** TLS towards an upstream: verification, CA, client certificate, SNI. */
export type UpstreamTlsConfig = Static<typeof Schema.UpstreamTlsConfig>;
/** A named upstream: its origin URL, TLS, timeouts and connection pool. */
export type UpstreamConfig = Static<typeof Schema.UpstreamConfig>;
/** How a route matches the path: edgemicro base path, or nginx exact, prefix or regex location. */
export type RouteMatch = Static<typeof Schema.RouteMatch>;
/** A route: its match, rewrite statements, action, plugins and per-route policies. */
export type RouteConfig = Static<typeof Schema.RouteConfig>;
export type RouteAction = ProxyAction | ReturnAction;
/** Proxy the request to an upstream (nginx `proxy_pass`). */
export type ProxyAction = Static<typeof Schema.ProxyAction>;
/** Answer directly (nginx `return`). */
export type ReturnAction = Static<typeof Schema.ReturnAction>;
/** A header name and its value template. */
export type HeaderSet = Static<typeof Schema.HeaderSet>;
/** A rewrite-phase statement (nginx ngx_http_rewrite_module). */
export type Statement = Static<typeof Schema.Statement>;
/** The condition of an `if` statement. */
export type Condition = Static<typeof Schema.Condition>;
/** nginx `map`: a variable computed lazily from a source template. */
export type MapConfig = Static<typeof Schema.MapConfig>;
/** Limits and client-side timeouts, global or per server. */
export type LimitsConfig = Static<typeof Schema.LimitsConfig>;
/** X-Forwarded-*, Via and Forwarded handling. */
export type HeaderPolicy = Static<typeof Schema.HeaderPolicy>;
/** Log level and access log. */
export type LogConfig = Static<typeof Schema.LogConfig>;
/** The admin listener (metrics, health). */
export type AdminConfig = Static<typeof Schema.AdminConfig>;
/** Egress proxy for upstream requests. */
export type EgressProxyConfig = Static<typeof Schema.EgressProxyConfig>;
