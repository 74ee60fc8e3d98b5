// The IPC messages between the cluster primary and its workers. Typed and prefixed so that other
// users of the channel (plugins calling process.send) cannot be mistaken for them.
import type { GatehouseConfig } from '../config/types.js';

/** Primary → worker. */
export type ToWorker =
  /** The config to serve (the one the primary validated, so a file rewritten meanwhile cannot race). */
  | { type: 'gatehouse:config'; config: GatehouseConfig; baseDir: string }
  /** Stop accepting, drain, exit 0. */
  | { type: 'gatehouse:drain' };

/** Worker → primary. */
export type ToPrimary =
  /** The worker listens for messages now: send it its config. */
  | { type: 'gatehouse:hello' }
  /** The engine is started (listeners bound). */
  | { type: 'gatehouse:ready' }
  /** The engine could not be built or started; the worker exits 1 after this. */
  | { type: 'gatehouse:failed'; message: string };

function hasType(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return hasType(m) && (m.type === 'gatehouse:config' || m.type === 'gatehouse:drain');
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return (
    hasType(m) &&
    (m.type === 'gatehouse:hello' || m.type === 'gatehouse:ready' || m.type === 'gatehouse:failed')
  );
}
