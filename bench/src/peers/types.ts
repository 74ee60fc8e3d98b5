import type { GatehouseConfig } from '../../../packages/core/src/config/types.js';
import type { CertPair, KeyKind } from '../env/certs.js';
import type { Started } from '../proc/registry.js';

export type SystemName = 'gatehouse' | 'nginx' | 'haproxy' | 'http-proxy-3' | 'microgateway-core';

/** What a scenario needs the proxy under test to offer. */
export interface SystemSpec {
  /** Terminate TLS with a certificate of this kind (no session resumption). */
  tls?: KeyKind;
  /** Offer HTTP/2 via ALPN on the TLS listener. */
  http2?: boolean;
  /** Configure N prefix routes `/r00000`… instead of one catch-all route `/`. */
  routes?: number;
  /** Proxy to the WebSocket echo upstream and allow Upgrade. */
  websocket?: boolean;
  /** Allow at least this many simultaneous client connections. */
  maxConnections?: number;
}

export interface RunContext {
  /** The run's temp dir; each system writes its config into a subdir. */
  dir: string;
  repoRoot: string;
  originPort: number;
  /** The WebSocket echo upstream (websocket scenario). */
  wsOriginPort: number;
  certs: Record<KeyKind, CertPair>;
  /** The full run may install missing peers (microgateway-core). */
  mayInstall: boolean;
  log: (line: string) => void;
}

export interface RunningSystem {
  name: SystemName;
  /** Where the load goes (the front process when the system is a chain). */
  port: number;
  scheme: 'http' | 'https';
  /**
   * Every process that counts as "the proxy" (one, or each layer of a chain): CPU seconds and memory
   * are summed over all of them and their children.
   */
  procs: readonly Started[];
  /** Stops every process of the system (and anything else it started). */
  stop(): Promise<void>;
}

/** A hook that lets a scenario change the engine's config (e.g. add plugins to the route). */
export type GatehouseConfigHook = (config: GatehouseConfig, ctx: RunContext) => GatehouseConfig;

/**
 * Starts a system in a scenario that sets it up itself (a chain of layers, a product's own config),
 * in place of the peer's single proxy. The peer still decides whether the system is available.
 */
export type StartSystem = (ctx: RunContext, spec: SystemSpec) => Promise<RunningSystem>;

export interface Peer {
  name: SystemName;
  /** Why this system cannot run at all here (missing binary or package), or undefined. */
  unavailable(ctx: RunContext): Promise<string | undefined>;
  /** Why it cannot offer this spec (e.g. no HTTP/2), or undefined. */
  unsupported(spec: SystemSpec): string | undefined;
  start(ctx: RunContext, spec: SystemSpec, hook?: GatehouseConfigHook): Promise<RunningSystem>;
}

/** The upstream a spec proxies to. */
export function upstreamPort(ctx: RunContext, spec: SystemSpec): number {
  return spec.websocket ? ctx.wsOriginPort : ctx.originPort;
}

export function routePath(i: number): string {
  return `/r${String(i).padStart(5, '0')}`;
}
