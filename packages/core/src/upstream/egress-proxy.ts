// Egress through an HTTP proxy for upstream requests: which proxy (if any) a target uses, from config or from
// HTTP_PROXY/HTTPS_PROXY/NO_PROXY, and the undici dispatcher that goes through it (CONNECT tunnel for https
// targets, absolute-form requests for http targets unless tunnelling is asked for).
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import type { Dispatcher, ProxyAgent as ProxyAgentType } from 'undici';
import type { EgressProxyConfig } from '../config/types.js';
import type { UpstreamConnectOptions } from '../tls/upstream-tls.js';

type NoProxyRule =
  | { kind: 'all' }
  | { kind: 'domain'; domain: string; port?: number }
  | { kind: 'ip'; blocks: BlockList; port?: number };

export interface EgressProxy {
  /** Proxy URL for http:// targets. */
  readonly http?: string;
  /** Proxy URL for https:// targets. */
  readonly https?: string;
  /** http:// targets go through a CONNECT tunnel as well. */
  readonly tunnel: boolean;
  /** The proxy URL to use for `url`, or undefined to connect directly. */
  proxyFor(url: URL): string | undefined;
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normaliseHost(host: string): string {
  const h = unbracket(host.trim().toLowerCase());
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Splits `host:port`, `[v6]:port`, `v6` (no port: more than one colon and no brackets). */
function splitHostPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(':') as [string, string];
    if (/^\d+$/.test(port)) return { host, port: Number(port) };
  }
  return { host: entry };
}

/**
 * Parses NO_PROXY entries (comma or space separated): `*`; `host`, `.suffix` and `*.suffix` (each matches the
 * domain and its subdomains, as curl and undici do); `host:port`; IP literals and CIDR ranges. Case-insensitive.
 */
export function parseNoProxy(entries: readonly string[]): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of entries.flatMap((e) => e.split(/[\s,]+/))) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') {
      rules.push({ kind: 'all' });
      continue;
    }
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(unbracket(cidr[1]!))) {
      const ip = unbracket(cidr[1]!);
      const blocks = new BlockList();
      blocks.addSubnet(ip, Number(cidr[2]), isIP(ip) === 6 ? 'ipv6' : 'ipv4');
      rules.push({ kind: 'ip', blocks });
      continue;
    }
    const { host, port } = splitHostPort(entry);
    const h = normaliseHost(host);
    if (isIP(h)) {
      const blocks = new BlockList();
      blocks.addAddress(h, isIP(h) === 6 ? 'ipv6' : 'ipv4');
      rules.push({ kind: 'ip', blocks, port });
      continue;
    }
    const domain = h.replace(/^\*?\./, '');
    if (domain) rules.push({ kind: 'domain', domain, port });
  }
  return rules;
}

/** True when `url` must bypass the proxy according to `rules`. */
export function bypassesProxy(rules: readonly NoProxyRule[], url: URL): boolean {
  const host = normaliseHost(url.hostname);
  const port = url.port ? Number(url.port) : defaultPort(url.protocol);
  const family = isIP(host);
  for (const rule of rules) {
    if (rule.kind === 'all') return true;
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.kind === 'ip') {
      if (family && rule.blocks.check(host, family === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    if (host === rule.domain || host.endsWith('.' + rule.domain)) return true;
  }
  return false;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  // Lower case first, as curl and undici do.
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v && v.trim() ? v.trim() : undefined;
}

/** Adds `http://` to a bare `host:port` proxy, as curl does. */
function normaliseProxyUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

/**
 * The egress proxy settings that `'env'` stands for: HTTP_PROXY, HTTPS_PROXY and NO_PROXY (lower case
 * first). A product that adds its own settings to the environment's (edgemicro's `proxy.tunnel` and
 * `proxy.bypass` without `proxy.url`) starts from this.
 */
export function egressProxyFromEnv(env: NodeJS.ProcessEnv = process.env): EgressProxyConfig {
  const noProxy = envValue(env, 'no_proxy');
  return {
    http: env.REQUEST_METHOD ? env.http_proxy?.trim() || undefined : envValue(env, 'http_proxy'),
    https: envValue(env, 'https_proxy'),
    noProxy: noProxy ? [noProxy] : [],
  };
}

/**
 * The egress proxy settings from config, or from the environment with `'env'`. Undefined when no proxy is set.
 * In a CGI-like environment (REQUEST_METHOD set) HTTP_PROXY in upper case is ignored: a client can set it
 * with a `Proxy:` header ("httpoxy").
 */
export function resolveEgressProxy(
  cfg: EgressProxyConfig | 'env' | undefined,
  env: NodeJS.ProcessEnv = process.env,
): EgressProxy | undefined {
  if (cfg === undefined) return undefined;
  if (cfg === 'env') cfg = egressProxyFromEnv(env);
  const http = normaliseProxyUrl(cfg.http);
  const https = normaliseProxyUrl(cfg.https);
  if (!http && !https) return undefined;
  const rules = parseNoProxy(cfg.noProxy ?? []);
  return {
    http,
    https,
    tunnel: cfg.tunnel === true,
    proxyFor(url) {
      const proxy = url.protocol === 'https:' || url.protocol === 'wss:' ? https : http;
      if (!proxy) return undefined;
      return bypassesProxy(rules, url) ? undefined : proxy;
    },
  };
}

export interface EgressDispatcherOptions {
  /** TLS (and connect) options for the connection to the target, applied inside the CONNECT tunnel. */
  connect?: UpstreamConnectOptions & { timeout?: number; lookup?: unknown };
  /** TLS options for the connection to an https:// proxy itself. */
  proxyTls?: UpstreamConnectOptions;
  keepAliveTimeout?: number;
  keepAliveMaxTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
  /** CONNECT tunnel for an http:// target too (https:// targets are always tunnelled). */
  tunnel?: boolean;
  pipelining?: number;
  maxHeaderSize?: number;
  connections?: number;
}

/**
 * A dispatcher that sends requests for `target` through `proxyUrl`: a CONNECT tunnel for https targets
 * (the target's TLS settings applied to the tunnelled connection), absolute-form requests for http targets
 * unless `tunnel` is set.
 */
export function createEgressDispatcher(
  proxyUrl: string,
  target: URL,
  options: EgressDispatcherOptions = {},
): Dispatcher {
  const { connect, proxyTls, tunnel, ...pool } = options;
  // The host mapping (`lookup`) is for direct connections: through a proxy, the proxy resolves the name.
  const { timeout, lookup: _lookup, ...targetTls } = connect ?? {};
  void _lookup;
  const url = new URL(proxyUrl);
  // undici (and its WebAssembly parser, ~20 MB) is loaded only by engines that use an egress proxy.
  const { ProxyAgent } = createRequire(import.meta.url)('undici') as { ProxyAgent: typeof ProxyAgentType };
  return new ProxyAgent({
    uri: url.href,
    proxyTunnel: tunnel === true,
    ...pool,
    ...(timeout !== undefined ? { connect: { timeout } } : {}),
    requestTls:
      target.protocol === 'https:'
        ? { ...targetTls, ...(timeout !== undefined ? { timeout } : {}) }
        : undefined,
    proxyTls: { ...(proxyTls ?? {}), ...(timeout !== undefined ? { timeout } : {}) },
  });
}
