// The worker side of `serve --workers N`: ask the primary for the config it validated, build and
// start the engine exactly like single-process serve, report ready; drain and exit 0 when the
// primary says so (or on SIGTERM/SIGINT). Reloads are not done in place: the primary replaces workers.
import type { Gatehouse } from '../gatehouse.js';
import type { GatehouseConfig } from '../config/types.js';
import { isToWorker, type ToPrimary, type WorkerMetrics } from './messages.js';

/** How long a scrape waits for the primary's collection (which gives up on a worker after 2 s). */
const METRICS_WAIT_MS = 5000;

export interface WorkerOptions {
  /** Creates (not starts) the engine; the CLI passes the same builder single-process serve uses. */
  build: (config: GatehouseConfig, baseDir: string) => Promise<Gatehouse>;
  /** Runs once the engine has drained, before the process exits: a product flushes and closes
   *  what its plugins hold across requests (buffered records, store connections). Bounded by the caller. */
  afterClose?: () => Promise<void>;
}

function send(message: ToPrimary): void {
  process.send?.(message);
}

/** Run this process as a cluster worker. Returns once the worker waits for its config. */
export function runWorker(options: WorkerOptions): void {
  let engine: Gatehouse | undefined;
  let building = false;
  let drainRequested = false;
  // /metrics of this worker serves every worker's metrics: asked of the primary, merged here.
  const scrapes = new Map<number, (workers: WorkerMetrics[]) => void>();
  let nextScrape = 1;
  const gatewayMetrics = (): Promise<string> =>
    new Promise<WorkerMetrics[]>((resolve, reject) => {
      const id = nextScrape++;
      const timer = setTimeout(() => {
        scrapes.delete(id);
        reject(new Error("the cluster primary did not send the workers' metrics in time"));
      }, METRICS_WAIT_MS);
      scrapes.set(id, (workers) => {
        clearTimeout(timer);
        resolve(workers);
      });
      send({ type: 'gatehouse:metrics-request', id });
    }).then(async (workers) =>
      (await import('./aggregate-metrics.js')).aggregateWorkerMetrics(workers).metrics(),
    );
  const sendMetrics = async (id: number): Promise<void> => {
    let metrics: unknown[] = [];
    try {
      if (engine) metrics = await engine.registry.getMetricsAsJSON();
    } catch {
      // A collect callback that throws: this worker's series are left out of this scrape.
    }
    send({ type: 'gatehouse:metrics', id, metrics });
  };

  const drain = (): void => {
    if (drainRequested) return;
    drainRequested = true;
    // Not started yet: nothing to drain. Still building: drained once started (below).
    if (!building) process.exit(0);
    if (engine)
      engine
        .close()
        .then(() => options.afterClose?.())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
  };

  const start = async (config: GatehouseConfig, baseDir: string): Promise<void> => {
    if (building || drainRequested) return;
    building = true;
    try {
      const built = await options.build(config, baseDir);
      built.setMetricsSource(gatewayMetrics);
      await built.start();
      engine = built;
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      console.error(`gatehouse worker ${process.pid}: ${message}`);
      send({ type: 'gatehouse:failed', message });
      // Let the message reach the primary before exiting.
      setTimeout(() => process.exit(1), 100).unref();
      return;
    }
    if (drainRequested) {
      drainRequested = false;
      return drain();
    }
    send({ type: 'gatehouse:ready' });
  };

  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    switch (m.type) {
      case 'gatehouse:config':
        return void start(m.config, m.baseDir);
      case 'gatehouse:drain':
        return drain();
      case 'gatehouse:metrics-collect':
        return void sendMetrics(m.id);
      case 'gatehouse:metrics-result': {
        const resolve = scrapes.get(m.id);
        scrapes.delete(m.id);
        return resolve?.(m.workers);
      }
    }
  });
  process.on('SIGTERM', drain);
  process.on('SIGINT', drain);
  // A terminal hang-up reaches the whole process group; reloading is the primary's business.
  process.on('SIGHUP', () => undefined);
  send({ type: 'gatehouse:hello' });
}
