// A gateway worker: core's cluster worker building the gateway engine, and, once it has drained,
// the built-in plugins' process-wide state flushed and closed (analytics records still buffered
// go to Edge; Redis and master-store connections close) before the process exits.
import { closeAnalytics, closeCounterStores } from '../plugins/registry.js';
import { buildGatewayEngine } from './build-engine.js';

/** Bound on the flush at exit: an unreachable analytics endpoint must not hold the worker. */
const FLUSH_MS = 5000;

export async function closePluginState(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([closeAnalytics(), closeCounterStores()]),
    new Promise<void>((r) => (timer = setTimeout(r, FLUSH_MS).unref())),
  ]);
  clearTimeout(timer);
}

export async function runGatewayWorker(): Promise<void> {
  const { runWorker } = await import('@gatehouse/core/cluster');
  runWorker({ build: buildGatewayEngine, afterClose: closePluginState });
}
