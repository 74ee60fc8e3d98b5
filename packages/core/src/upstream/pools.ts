// One undici Pool per upstream origin and connection options, shared across config reloads so that
// kept-alive upstream connections survive a reload that does not change the upstream.
import { Pool, buildConnector, type Dispatcher } from 'undici';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { UpstreamTarget } from '../config/compile.js';
import type { EgressProxyConfig } from '../config/types.js';
import { buildUpstreamConnectOptions, createUpstreamConnector } from '../tls/upstream-tls.js';
import { createEgressDispatcher, resolveEgressProxy } from './egress-proxy.js';

export const UPSTREAM_DEFAULTS = {
  connectTimeoutMs: 60_000,
  readTimeoutMs: 60_000,
  sendTimeoutMs: 60_000,
  maxConnections: 128,
  keepAliveTimeoutMs: 4_000,
};

interface Entry {
  dispatcher: Dispatcher;
  users: number;
  lastUsed: number;
}

export class PoolRegistry {
  private readonly pools = new Map<string, Entry>();
  private hosts: ReadonlyMap<string, string> = new Map();
  private egress: ReturnType<typeof resolveEgressProxy> | undefined;
  private readonly baseDir: string | undefined;
  private settingsKey: string | undefined;

  constructor(options: { baseDir?: string } = {}) {
    this.baseDir = options.baseDir;
  }

  configure(hosts: ReadonlyMap<string, string>, egress: EgressProxyConfig | 'env' | undefined): void {
    const key = JSON.stringify([[...hosts], egress ?? null]);
    if (this.settingsKey !== undefined && key !== this.settingsKey) {
      // Name mapping or egress changed: pools dial differently now. Retire them; requests in flight finish.
      const old = [...this.pools.values()];
      this.pools.clear();
      for (const e of old) e.dispatcher.close().catch(() => e.dispatcher.destroy());
    }
    this.settingsKey = key;
    this.hosts = hosts;
    this.egress = egress === undefined ? undefined : resolveEgressProxy(egress, process.env);
  }

  /** The dispatcher for a target; keyed by origin + options so different TLS settings get different pools. */
  get(target: UpstreamTarget): Dispatcher {
    const key =
      target.options && Object.keys(target.options).length
        ? `${target.origin}|${stableKey(target.options)}`
        : target.origin;
    let entry = this.pools.get(key);
    if (!entry) {
      entry = { dispatcher: this.create(target), users: 0, lastUsed: Date.now() };
      this.pools.set(key, entry);
    }
    return entry.dispatcher;
  }

  private create(target: UpstreamTarget): Dispatcher {
    const o = target.options;
    const url = new URL(target.origin);
    const proxy = this.egress?.proxyFor(url);
    const mapped = this.hosts.get(target.hostname.toLowerCase());
    const timeout = o.connectTimeoutMs ?? UPSTREAM_DEFAULTS.connectTimeoutMs;
    const lookup = mapped ? fixedLookup(mapped) : undefined;
    const tls = target.protocol === 'https:' ? buildUpstreamConnectOptions(o.tls, url, this.baseDir) : {};
    const connect = { ...tls, timeout, ...(lookup ? { lookup } : {}) };
    const common = {
      keepAliveTimeout: o.keepAliveTimeoutMs ?? UPSTREAM_DEFAULTS.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(o.keepAliveTimeoutMs ?? UPSTREAM_DEFAULTS.keepAliveTimeoutMs, 1000),
      headersTimeout: o.readTimeoutMs ?? UPSTREAM_DEFAULTS.readTimeoutMs,
      bodyTimeout: o.readTimeoutMs ?? UPSTREAM_DEFAULTS.readTimeoutMs,
      pipelining: 1,
      // Upstream responses are parsed strictly; a response head over 64 KiB is refused.
      maxHeaderSize: 65_536,
    };
    if (proxy) return createEgressDispatcher(proxy, url, { connect, ...common });
    return new Pool(target.origin, {
      ...common,
      connections: o.maxConnections ?? UPSTREAM_DEFAULTS.maxConnections,
      connect:
        target.protocol === 'https:'
          ? createUpstreamConnector(o.tls, url, this.baseDir, { timeout, lookup })
          : buildConnector({ timeout, ...(lookup ? { lookup } : {}) } as buildConnector.BuildOptions),
    });
  }

  /** Number of pools (for tests and metrics). */
  get size(): number {
    return this.pools.size;
  }

  /** Pool statistics summed over all pools: connected sockets, free sockets, pending and running requests. */
  stats(): { connected: number; free: number; pending: number; running: number } {
    const s = { connected: 0, free: 0, pending: 0, running: 0 };
    for (const { dispatcher } of this.pools.values()) {
      const st = (dispatcher as Pool).stats as Pool['stats'] | undefined;
      if (!st) continue;
      s.connected += st.connected;
      s.free += st.free;
      s.pending += st.pending;
      s.running += st.running;
    }
    return s;
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.dispatcher.close().catch(() => e.dispatcher.destroy())));
  }

  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.dispatcher.destroy().catch(() => undefined)));
  }
}

/** A key equal for equal options whatever their key order, at every depth (TLS settings included). */
function stableKey(o: object): string {
  return JSON.stringify(o, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** A DNS lookup that answers with a configured address (tests, Docker-style names on loopback). */
function fixedLookup(address: string) {
  const family = isIP(address) || 4;
  return (
    _host: string,
    options: { all?: boolean } | number | undefined,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    if (!isIP(address)) return void dnsLookup(address, options as never, cb as never);
    if (typeof options === 'object' && options?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
}
