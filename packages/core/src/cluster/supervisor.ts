// The primary side of `serve --workers N`: forks N workers (node:cluster; they share the listening
// sockets), replaces crashed ones with back-off, rolls them one by one on reload (the new worker is
// ready before the old one drains) and drains them all on stop. It only reads and validates the config:
// the engine's modules (undici, prom-client, …) are never loaded here.
import cluster, { type Worker } from 'node:cluster';
import type { GatehouseConfig } from '../config/types.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { isToPrimary, type ToWorker, type WorkerMetrics } from './messages.js';
import { RestartBackoff, type BackoffOptions } from './restart-backoff.js';

export interface SupervisorOptions {
  /** Number of workers to keep running. */
  workers: number;
  /** Reads, validates and compiles the config file; throws a ConfigError naming the problem. */
  readConfig: () => GatehouseConfig;
  /** Directory relative paths in the config resolve against (sent to workers). */
  baseDir: string;
  /** Where the primary's log lines go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  backoff?: BackoffOptions;
  /** How long a new worker may take to become ready. Default 60 s. */
  readyTimeoutMs?: number;
}

type WorkerState =
  /** Forked, not ready yet. */
  | 'starting'
  | 'ready'
  /** Still serving, but its replacement is being started (not counted as one of the N). */
  | 'retiring'
  /** Told to drain; its exit is expected. */
  | 'draining';

interface Tracked {
  worker: Worker;
  pid: number;
  config: GatehouseConfig;
  generation: number;
  state: WorkerState;
  startedAt: number;
  onReady: Array<(ok: boolean) => void>;
  onExit: Array<() => void>;
  killTimer?: NodeJS.Timeout;
}

/** Time a draining worker gets beyond the config's drain timeout before it is killed. */
const KILL_MARGIN_MS = 2000;
/** How long a /metrics collection waits for the workers; one that has not answered is left out (a
 *  scrape must not hang on a worker that is starting or stuck). */
const METRICS_COLLECT_MS = 2000;

/** A /metrics collection: asked by one worker, answered by every serving one. */
interface Collection {
  asker: Tracked;
  askerId: number;
  waiting: Set<number>;
  workers: WorkerMetrics[];
  timer: NodeJS.Timeout;
}

export class Supervisor {
  readonly logger: Logger;
  private readonly workers = new Map<number, Tracked>();
  private config: GatehouseConfig;
  private generation = 1;
  private readonly backoff: RestartBackoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<void> | undefined;
  private reloadPending = false;
  private readonly collections = new Map<number, Collection>();
  private nextCollection = 1;

  /** Reads and validates the config: throws (a ConfigError naming the problem) if it is invalid. */
  constructor(private readonly options: SupervisorOptions) {
    this.config = options.readConfig();
    this.backoff = new RestartBackoff(options.backoff);
    this.logger = createLogger(this.config.log, options.logDestination).child({ role: 'primary' });
  }

  /**
   * Fork the workers and wait until all are ready; rejects if one fails to start (all are stopped then).
   * A reload asked for meanwhile runs once they are ready; a stop meanwhile resolves once all exited.
   */
  async start(): Promise<void> {
    // The workers accept from the listening socket they share, as nginx's do (accept_mutex off,
    // its default), instead of node's round robin. The round robin hands each connection over IPC
    // to a worker; one handed to a worker that has just died is never redistributed (node's
    // cluster drops it when the send fails), so the client hangs until its own timeout. Here a
    // dead worker's queue is the shared one: the others take what it left.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    const first = Array.from({ length: this.options.workers }, () => this.fork());
    const ready = await Promise.all(first.map((t) => this.waitReady(t)));
    if (this.stopping) return this.stopping;
    if (!ready.every(Boolean)) {
      await this.stop();
      throw new Error('a worker failed to start (see its error above)');
    }
    this.started = true;
    if (this.reloadPending) this.reload();
  }

  /** Pids of the workers currently serving (ready or retiring). */
  pids(): number[] {
    return [...this.workers.values()]
      .filter((t) => t.state === 'ready' || t.state === 'retiring')
      .map((t) => t.pid);
  }

  /** Re-read the config and roll the workers onto it. A reload asked for during one runs once after it. */
  reload(): void {
    if (this.stopping) return;
    if (this.reloading || !this.started) {
      this.reloadPending = true;
      return;
    }
    this.reloading = (async () => {
      do {
        this.reloadPending = false;
        await this.reloadOnce();
      } while (this.reloadPending && !this.stopping);
    })().finally(() => (this.reloading = undefined));
  }

  /** Drain every worker and wait for them all to exit. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.restartTimer);
      this.logger.info({ workers: this.workers.size }, 'draining workers');
      await Promise.all([...this.workers.values()].map((t) => this.drainWorker(t)));
      this.logger.info('all workers exited');
    })();
    return this.stopping;
  }

  private fork(): Tracked {
    const worker = cluster.fork({ GATEHOUSE_WORKER: '1' });
    const t: Tracked = {
      worker,
      pid: worker.process.pid ?? 0,
      config: this.config,
      generation: this.generation,
      state: 'starting',
      startedAt: Date.now(),
      onReady: [],
      onExit: [],
    };
    this.workers.set(worker.id, t);
    worker.on('message', (m: unknown) => this.onMessage(t, m));
    // A send on a channel closing under a dying worker; its exit is handled below.
    worker.on('error', (err: Error) =>
      this.logger.debug({ pid: t.pid, err: { message: err.message } }, 'worker channel error'),
    );
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.onExit(t, code, signal));
    return t;
  }

  private onMessage(t: Tracked, m: unknown): void {
    if (!isToPrimary(m)) return;
    switch (m.type) {
      case 'gatehouse:hello':
        this.send(t, { type: 'gatehouse:config', config: t.config, baseDir: this.options.baseDir });
        return;
      case 'gatehouse:ready':
        if (t.state === 'starting') t.state = 'ready';
        this.logger.info({ pid: t.pid, worker: t.worker.id, generation: t.generation }, 'worker ready');
        for (const f of t.onReady.splice(0)) f(true);
        return;
      case 'gatehouse:failed':
        this.logger.error(
          { pid: t.pid, worker: t.worker.id, err: { message: m.message } },
          'worker failed to start',
        );
        return;
      case 'gatehouse:metrics-request':
        this.collectMetrics(t, m.id);
        return;
      case 'gatehouse:metrics': {
        const c = this.collections.get(m.id);
        if (!c || !c.waiting.delete(t.worker.id)) return;
        c.workers.push({ worker: t.worker.id, metrics: Array.isArray(m.metrics) ? m.metrics : [] });
        if (c.waiting.size === 0) this.finishCollection(m.id);
        return;
      }
    }
  }

  /** Ask every serving worker (ready or retiring: both take connections) for its metrics; answer
   *  `asker` with all that came within METRICS_COLLECT_MS. */
  private collectMetrics(asker: Tracked, askerId: number): void {
    const id = this.nextCollection++;
    const serving = [...this.workers.values()].filter((w) => w.state === 'ready' || w.state === 'retiring');
    const c: Collection = {
      asker,
      askerId,
      waiting: new Set(serving.map((w) => w.worker.id)),
      workers: [],
      timer: setTimeout(() => this.finishCollection(id), METRICS_COLLECT_MS),
    };
    this.collections.set(id, c);
    for (const w of serving) this.send(w, { type: 'gatehouse:metrics-collect', id });
    if (c.waiting.size === 0) this.finishCollection(id);
  }

  private finishCollection(id: number): void {
    const c = this.collections.get(id);
    if (!c) return;
    this.collections.delete(id);
    clearTimeout(c.timer);
    if (c.waiting.size > 0)
      this.logger.warn({ workers: [...c.waiting] }, 'metrics: workers did not answer in time; left out');
    c.workers.sort((a, b) => a.worker - b.worker);
    this.send(c.asker, { type: 'gatehouse:metrics-result', id: c.askerId, workers: c.workers });
  }

  private onExit(t: Tracked, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(t.worker.id);
    clearTimeout(t.killTimer);
    const expected = t.state === 'draining';
    const lived = Date.now() - t.startedAt;
    for (const f of t.onReady.splice(0)) f(false);
    for (const f of t.onExit.splice(0)) f();
    for (const [id, c] of this.collections)
      if (c.waiting.delete(t.worker.id) && c.waiting.size === 0) this.finishCollection(id);
    if (expected || this.stopping || !this.started) {
      this.logger.info({ pid: t.pid, worker: t.worker.id, code, signal }, 'worker exited');
      return;
    }
    // Not asked to stop: a crash. Replace it after a back-off so that a crash loop does not spin.
    const restartInMs = this.backoff.delayAfterCrash(lived);
    this.logger.warn(
      { pid: t.pid, worker: t.worker.id, code, signal, livedMs: lived, restartInMs },
      'worker exited',
    );
    if (this.restartTimer === undefined)
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.fillUp();
      }, restartInMs);
  }

  /** Fork workers until N are starting or ready. */
  private fillUp(): void {
    if (this.stopping) return;
    let serving = [...this.workers.values()].filter(
      (t) => t.state === 'starting' || t.state === 'ready',
    ).length;
    for (; serving < this.options.workers; serving++) this.fork();
  }

  private async reloadOnce(): Promise<void> {
    let next: GatehouseConfig;
    try {
      next = this.options.readConfig();
    } catch (err) {
      this.logger.error(
        { err: { message: (err as Error).message } },
        'configuration rejected; keeping the running workers',
      );
      return;
    }
    const previous = { config: this.config, generation: this.generation };
    this.config = next;
    this.generation++;
    this.logger.level = next.log?.level ?? 'info';
    this.logger.info({ generation: this.generation }, 'reload started');
    const old = [...this.workers.values()].filter((t) => t.config !== next && t.state !== 'draining');
    const drains: Array<Promise<void>> = [];
    for (const t of old) {
      if (this.stopping) break;
      if (!this.workers.has(t.worker.id) || t.state === 'draining') continue;
      const wasState = t.state;
      t.state = 'retiring';
      const fresh = this.fork();
      if (!(await this.waitReady(fresh))) {
        if (this.stopping) break;
        if (this.workers.has(t.worker.id) && t.state === 'retiring') t.state = wasState;
        void this.drainWorker(fresh);
        // Crash replacements use the config that works; workers already rolled keep the new one.
        this.config = previous.config;
        this.generation = previous.generation;
        this.logger.error(
          { generation: previous.generation + 1, rolled: drains.length, workers: this.pids() },
          'reload failed: a new worker did not become ready; keeping the running workers',
        );
        await Promise.all(drains);
        return;
      }
      drains.push(this.drainWorker(t));
    }
    await Promise.all(drains);
    if (!this.stopping)
      this.logger.info({ generation: this.generation, workers: this.pids() }, 'reload complete');
  }

  private waitReady(t: Tracked): Promise<boolean> {
    if (t.state === 'ready') return Promise.resolve(true);
    if (!this.workers.has(t.worker.id)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.logger.error({ pid: t.pid, worker: t.worker.id }, 'worker not ready in time');
        resolve(false);
      }, this.options.readyTimeoutMs ?? 60_000);
      t.onReady.push((ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
    });
  }

  /** Tell a worker to drain; kill it if it is still there after the drain timeout. Resolves on its exit. */
  private drainWorker(t: Tracked): Promise<void> {
    if (!this.workers.has(t.worker.id)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => t.onExit.push(resolve));
    if (t.state === 'draining') return exited;
    t.state = 'draining';
    this.send(t, { type: 'gatehouse:drain' });
    const timeoutMs = (t.config.drainTimeoutMs ?? 10_000) + KILL_MARGIN_MS;
    t.killTimer = setTimeout(() => {
      this.logger.warn({ pid: t.pid, worker: t.worker.id, timeoutMs }, 'worker still draining; killing it');
      t.worker.process.kill('SIGKILL');
    }, timeoutMs);
    return exited;
  }

  private send(t: Tracked, message: ToWorker): void {
    // Disconnected (dying) workers cannot be told anything; kill the unreachable one that is still alive.
    const unreachable = (): void => {
      if (message.type === 'gatehouse:drain' && !t.worker.isDead()) t.worker.process.kill('SIGTERM');
    };
    // An exiting worker can still look connected and fail the write (EPIPE): with a callback the
    // error is this worker's, not thrown in the supervisor.
    if (t.worker.isConnected()) t.worker.send(message, (err) => err && unreachable());
    else unreachable();
  }
}
