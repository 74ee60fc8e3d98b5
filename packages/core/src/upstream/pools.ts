// One connection pool per upstream origin and connection options, shared across config reloads so
// that kept-alive upstream connections survive a reload that does not change the upstream. Direct
// connections use our HTTP/1.1 client (h1/); through an egress proxy, undici's ProxyAgent.
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { UpstreamTarget } from '../config/compile.js';
import type { EgressProxyConfig } from '../config/types.js';
import { buildUpstreamConnectOptions } from '../tls/upstream-tls.js';
import type { Dispatcher } from 'undici';
import type { PoolStats, UpstreamDispatcher } from './dispatcher.js';
import { createEgressDispatcher, resolveEgressProxy } from './egress-proxy.js';
import { H1Pool } from './h1/pool.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';

/** node:dns, loaded by the first lookup of a mapped name (util/lazy-builtin.ts). */
const dns = lazyBuiltin('node:dns');

/** Upstream response heads over 64 KiB are refused (502). */
const MAX_RESPONSE_HEAD = 65_536;

export const UPSTREAM_DEFAULTS = {
  connectTimeoutMs: 60_000,
  readTimeoutMs: 60_000,
  sendTimeoutMs: 60_000,
  maxConnections: 128,
  keepAliveTimeoutMs: 4_000,
  maxQueued: 1024,
  queueTimeoutMs: 10_000,
};

interface Entry {
  dispatcher: UpstreamDispatcher;
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
  get(target: UpstreamTarget): UpstreamDispatcher {
    const key = poolKey(target);
    let entry = this.pools.get(key);
    if (!entry) {
      entry = { dispatcher: this.create(target), users: 0, lastUsed: Date.now() };
      this.pools.set(key, entry);
    }
    return entry.dispatcher;
  }

  private create(target: UpstreamTarget): UpstreamDispatcher {
    const o = target.options;
    const url = new URL(target.origin);
    const proxy = this.egress?.proxyFor(url);
    const mapped = this.hosts.get(target.hostname.toLowerCase());
    const timeout = o.connectTimeoutMs ?? UPSTREAM_DEFAULTS.connectTimeoutMs;
    const lookup = mapped ? fixedLookup(mapped) : undefined;
    const tls =
      target.protocol === 'https:' ? buildUpstreamConnectOptions(o.tls, url, this.baseDir) : undefined;
    const keepAliveTimeoutMs = o.keepAliveTimeoutMs ?? UPSTREAM_DEFAULTS.keepAliveTimeoutMs;
    if (proxy) {
      const readTimeout = o.readTimeoutMs ?? UPSTREAM_DEFAULTS.readTimeoutMs;
      return fromUndici(
        createEgressDispatcher(proxy, url, {
          connect: { ...tls, timeout, ...(lookup ? { lookup } : {}) },
          keepAliveTimeout: keepAliveTimeoutMs,
          keepAliveMaxTimeout: Math.max(keepAliveTimeoutMs, 1000),
          headersTimeout: readTimeout,
          bodyTimeout: readTimeout,
          tunnel: this.egress!.tunnel,
          pipelining: 1,
          maxHeaderSize: MAX_RESPONSE_HEAD,
        }),
      );
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return new H1Pool({
      host,
      port: Number(url.port) || (target.protocol === 'https:' ? 443 : 80),
      tls,
      connectTimeoutMs: timeout,
      lookup,
      maxConnections: o.maxConnections ?? UPSTREAM_DEFAULTS.maxConnections,
      keepAliveTimeoutMs,
      maxHeaderSize: MAX_RESPONSE_HEAD,
      maxQueued: o.maxQueued ?? UPSTREAM_DEFAULTS.maxQueued,
      queueTimeoutMs: o.queueTimeoutMs ?? UPSTREAM_DEFAULTS.queueTimeoutMs,
    });
  }

  /** Number of pools (for tests and metrics). */
  get size(): number {
    return this.pools.size;
  }

  /** Pool statistics summed over all pools: connected sockets, free sockets, pending and running requests. */
  stats(): PoolStats {
    const s = { connected: 0, free: 0, pending: 0, running: 0 };
    for (const { dispatcher } of this.pools.values()) {
      const st = dispatcher.stats;
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

/** undici's dispatcher behind our interface (its handler API is the one ours narrows). */
function fromUndici(d: Dispatcher): UpstreamDispatcher {
  return {
    dispatch: (req, handler) =>
      d.dispatch(req as Dispatcher.DispatchOptions, handler as unknown as Dispatcher.DispatchHandler),
    close: () => d.close(),
    destroy: () => d.destroy(),
  };
}

// Compiled targets and their options objects live as long as their snapshot and are never changed
// (the config is frozen), so their keys are made once, not per request.
const targetKeys = new WeakMap<UpstreamTarget, string>();
const optionKeys = new WeakMap<object, string>();

/** Origin + options: different TLS or timeout settings get different pools. */
function poolKey(target: UpstreamTarget): string {
  let key = targetKeys.get(target);
  if (key !== undefined) return key;
  const o = target.options;
  let k = optionKeys.get(o);
  if (k === undefined) {
    k = Object.keys(o).length ? stableKey(o) : '';
    optionKeys.set(o, k);
  }
  key = k === '' ? target.origin : `${target.origin}|${k}`;
  targetKeys.set(target, key);
  return key;
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
    if (!isIP(address)) return void dns().lookup(address, options as never, cb as never);
    if (typeof options === 'object' && options?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
}
