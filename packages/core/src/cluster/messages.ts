// The IPC messages between the cluster primary and its workers. Typed and prefixed so that other
// users of the channel (plugins calling process.send) cannot be mistaken for them.
import type { GatehouseConfig } from '../config/types.js';

/** Primary → worker. */
export type ToWorker =
  /** The config to serve (the one the primary validated, so a file rewritten meanwhile cannot race). */
  | { type: 'gatehouse:config'; config: GatehouseConfig; baseDir: string }
  /** Stop accepting, drain, exit 0. */
  | { type: 'gatehouse:drain' }
  /** Send your registry's metrics (prom-client's JSON) for collection `id`. */
  | { type: 'gatehouse:metrics-collect'; id: number }
  /** Every serving worker's metrics for the worker's request `id` (one that did not answer in time
   *  is left out). */
  | { type: 'gatehouse:metrics-result'; id: number; workers: WorkerMetrics[] };

/** One worker's registry as prom-client's getMetricsAsJSON() gives it; the primary passes it on
 *  without reading it (it never loads prom-client). */
export interface WorkerMetrics {
  worker: number;
  metrics: unknown[];
}

/** Worker → primary. */
export type ToPrimary =
  /** The worker listens for messages now: send it its config. */
  | { type: 'gatehouse:hello' }
  /** The engine is started (listeners bound). */
  | { type: 'gatehouse:ready' }
  /** The engine could not be built or started; the worker exits 1 after this. */
  | { type: 'gatehouse:failed'; message: string }
  /** /metrics was asked of this worker: collect every worker's metrics, answer with `id`. */
  | { type: 'gatehouse:metrics-request'; id: number }
  /** This worker's metrics for the primary's collection `id`. */
  | { type: 'gatehouse:metrics'; id: number; metrics: unknown[] };

function hasType(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

const TO_WORKER = new Set<string>([
  'gatehouse:config',
  'gatehouse:drain',
  'gatehouse:metrics-collect',
  'gatehouse:metrics-result',
] satisfies Array<ToWorker['type']>);
const TO_PRIMARY = new Set<string>([
  'gatehouse:hello',
  'gatehouse:ready',
  'gatehouse:failed',
  'gatehouse:metrics-request',
  'gatehouse:metrics',
] satisfies Array<ToPrimary['type']>);

export function isToWorker(m: unknown): m is ToWorker {
  return hasType(m) && TO_WORKER.has(m.type);
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return hasType(m) && TO_PRIMARY.has(m.type);
}
