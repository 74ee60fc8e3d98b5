import type { GatehouseConfigHook, StartSystem, SystemName, SystemSpec } from '../peers/types.js';

/** How load is applied. Every kind is bounded in time by the harness. */
export type LoadSpec =
  | {
      kind: 'wrk';
      path: string;
      connections: number;
      headers?: string[];
      /** POST this many bytes per request. */
      postBytes?: number;
    }
  | { kind: 'h2load'; path: string; clients: number; streams: number }
  | { kind: 'idle'; path: string; connections: number }
  /** WebSocket round trips (send, wait for the echo, send again) on each connection. */
  | { kind: 'ws'; path: string; connections: number; messageBytes: number };

/** The figure a scenario is judged by; the chart shows its ratio to nginx. */
export type Primary = 'reqPerCpuSecond' | 'requestsPerSecond' | 'mbPerSecond' | 'rssMiB';

export interface Scenario {
  name: string;
  /** One line: what the scenario measures. */
  title: string;
  spec: SystemSpec;
  load: LoadSpec;
  primary: Primary;
  /** Restrict to these systems (default: every system that supports the spec). */
  systems?: SystemName[];
  /** false: only in --full runs or when named with --scenario (keeps a quick run near 4 minutes). */
  quick?: boolean;
  /** Set while a product part is missing: the scenario is listed as "pending: needs X" and not run. */
  pending?: string;
  /** Lets a scenario change the engine's config (plugins, gateway settings…). */
  gatehouseConfig?: GatehouseConfigHook;
  /**
   * Systems this scenario sets up itself (a chain of layers, a product with its own config) instead
   * of the peer's single proxy; systems not named here start as usual.
   */
  start?: Partial<Record<SystemName, StartSystem>>;
  /** The body the smoke request must return (proves the request went all the way to the origin). */
  smokeBody?: string;
  /** How the scenario is set up and measured, printed under its table in the report. */
  note?: string;
}
