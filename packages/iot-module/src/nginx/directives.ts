// The directives Gatehouse understands, with nginx's shape rules for each: where it may be written,
// whether it opens a block, and how many arguments it takes. The parser checks these exactly as
// nginx's ngx_conf_handler does, so errors read the same.
import type { NginxContext } from './ast.js';

export interface DirectiveSpec {
  contexts: readonly NginxContext[];
  /** Opens a block (`name args { … }`). */
  block?: boolean;
  minArgs: number;
  maxArgs: number;
  /** Context of the block's contents. */
  inner?: NginxContext;
}

const MANY = Number.POSITIVE_INFINITY;
const HSL: readonly NginxContext[] = ['http', 'server', 'location'];
const HS: readonly NginxContext[] = ['http', 'server'];
const REWRITE: readonly NginxContext[] = ['server', 'location', 'if'];

function spec(contexts: readonly NginxContext[], minArgs: number, maxArgs = minArgs): DirectiveSpec {
  return { contexts, minArgs, maxArgs };
}

export const DIRECTIVES: ReadonlyMap<string, DirectiveSpec> = new Map<string, DirectiveSpec>([
  // main context
  ['events', { contexts: ['main'], block: true, minArgs: 0, maxArgs: 0, inner: 'events' }],
  ['http', { contexts: ['main'], block: true, minArgs: 0, maxArgs: 0, inner: 'http' }],
  ['worker_processes', spec(['main'], 1)],
  ['user', spec(['main'], 1, 2)],
  ['pid', spec(['main'], 1)],
  ['worker_rlimit_nofile', spec(['main'], 1)],
  ['pcre_jit', spec(['main'], 1)],
  ['error_log', spec(['main', ...HSL], 1, MANY)],
  // events
  ['worker_connections', spec(['events'], 1)],
  // http
  ['server', { contexts: ['http'], block: true, minArgs: 0, maxArgs: 0, inner: 'server' }],
  ['map', { contexts: ['http'], block: true, minArgs: 2, maxArgs: 2, inner: 'map' }],
  ['proxy_cache_path', spec(['http'], 2, MANY)],
  // server
  ['listen', spec(['server'], 1, MANY)],
  ['server_name', spec(['server'], 1, MANY)],
  ['location', { contexts: ['server'], block: true, minArgs: 1, maxArgs: 2, inner: 'location' }],
  ['if', { contexts: ['server', 'location'], block: true, minArgs: 1, maxArgs: MANY, inner: 'if' }],
  ['ssl_certificate', spec(HS, 1)],
  ['ssl_certificate_key', spec(HS, 1)],
  ['ssl_client_certificate', spec(HS, 1)],
  ['ssl_verify_client', spec(HS, 1)],
  ['ssl_verify_depth', spec(HS, 1)],
  ['ssl_protocols', spec(HS, 1, MANY)],
  ['ssl_ciphers', spec(HS, 1)],
  // rewrite module
  ['rewrite', spec(REWRITE, 2, 3)],
  ['set', spec(REWRITE, 2)],
  ['return', spec(REWRITE, 1, 2)],
  // location
  ['proxy_pass', spec(['location'], 1)],
  ['internal', spec(['location'], 0)],
  // http, server, location
  ['resolver', spec(HSL, 1, MANY)],
  ['proxy_set_header', spec(HSL, 2)],
  ['proxy_http_version', spec(HSL, 1)],
  ['proxy_ssl_verify', spec(HSL, 1)],
  ['proxy_ssl_server_name', spec(HSL, 1)],
  ['proxy_ssl_name', spec(HSL, 1)],
  ['proxy_ssl_trusted_certificate', spec(HSL, 1)],
  ['proxy_ssl_verify_depth', spec(HSL, 1)],
  ['proxy_ssl_certificate', spec(HSL, 1)],
  ['proxy_ssl_certificate_key', spec(HSL, 1)],
  ['proxy_read_timeout', spec(HSL, 1)],
  ['proxy_connect_timeout', spec(HSL, 1)],
  ['proxy_send_timeout', spec(HSL, 1)],
  ['client_max_body_size', spec(HSL, 1)],
  ['auth_request', spec(HSL, 1)],
  ['auth_request_set', spec(HSL, 2)],
  ['proxy_cache', spec(HSL, 1)],
  ['proxy_cache_valid', spec(HSL, 1, MANY)],
  ['proxy_cache_key', spec(HSL, 1)],
  ['add_header', spec(HSL, 2, 3)],
  ['chunked_transfer_encoding', spec(HSL, 1)],
  ['access_log', spec(HSL, 1, MANY)],
  ['proxy_buffers', spec(HSL, 2)],
  ['proxy_buffer_size', spec(HSL, 1)],
  ['proxy_buffering', spec(HSL, 1)],
  ['proxy_request_buffering', spec(HSL, 1)],
  ['proxy_pass_request_headers', spec(HSL, 1)],
  ['keepalive_timeout', spec(HSL, 1, 2)],
  ['client_body_timeout', spec(HSL, 1)],
  ['client_header_timeout', spec(HS, 1)],
  ['send_timeout', spec(HSL, 1)],
]);

/** Directives allowed inside `if` blocks: the rewrite-phase statements the engine runs. */
export const IF_DIRECTIVES: ReadonlySet<string> = new Set(['rewrite', 'set', 'return']);

/** Real nginx directives we deliberately do not implement, to say so instead of "unknown". */
export const UNSUPPORTED_DIRECTIVES: ReadonlyMap<string, string> = new Map([
  ['include', '"include" is not supported: put the included text into the configuration itself'],
  ['upstream', '"upstream" blocks are not supported: use the address in "proxy_pass"'],
  ['break', '"break" is not supported'],
  ['root', '"root" is not supported: Gatehouse serves no static files'],
  ['alias', '"alias" is not supported: Gatehouse serves no static files'],
  ['try_files', '"try_files" is not supported: Gatehouse serves no static files'],
  ['index', '"index" is not supported: Gatehouse serves no static files'],
  ['proxy_redirect', '"proxy_redirect" is not supported'],
  ['limit_except', '"limit_except" is not supported'],
  ['stream', '"stream" is not supported: Gatehouse proxies HTTP only'],
  ['types', '"types" is not supported'],
  ['fastcgi_pass', '"fastcgi_pass" is not supported'],
  ['grpc_pass', '"grpc_pass" is not supported'],
  ['uwsgi_pass', '"uwsgi_pass" is not supported'],
  ['ssl', '"ssl" is not supported: use the "ssl" parameter of "listen"'],
]);
