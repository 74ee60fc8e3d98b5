// The edgemicro master: core's cluster supervisor runs the workers (rolling reload, crash restarts,
// drain); this adds what edgemicro has around it: the control socket (`stop`, `reload`, `status`),
// the pid file, the control-plane poll every `config_change_poll_interval` seconds (a change rolls the
// workers) with back-off on failures, and a graceful stop on SIGTERM/SIGINT.
import cluster from 'node:cluster';
import { unlinkSync, writeFileSync, watch, type FSWatcher } from 'node:fs';
import type { Server } from 'node:net';
import { Supervisor } from '@gatehouse/core/cluster';
import type { GatewaySource } from '../control-plane/gateway-source.js';
import { pidPath, socketPath } from '../config/locations.js';
import { attachCounterService } from '../plugins/registry.js';
import { closePluginState } from '../runtime/worker.js';
import { listenControl, type ControlReply } from './control-socket.js';

export interface MasterOptions {
  readonly source: GatewaySource;
  readonly workers: number;
  readonly cwd: string;
  readonly logDestination?: NodeJS.WritableStream;
  /** Called once everything is stopped (the CLI exits there). */
  readonly onStopped?: (code: number) => void;
}

export interface RunningMaster {
  readonly supervisor: Supervisor;
  reload(): Promise<ControlReply>;
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 5000;
const ROLL_WAIT_MS = 120_000;

export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const { source } = options;
  const sock = socketPath(options.cwd);
  const pidFile = pidPath(options.cwd);
  const supervisor = new Supervisor({
    workers: options.workers,
    readConfig: () => source.compile(),
    baseDir: options.cwd,
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
  });
  const log = supervisor.logger;
  // quota and spikearrest count in this process for all workers (unless quotas.useRedis).
  const detachCounters = attachCounterService(cluster);
  let control: Server | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let stopping: Promise<void> | undefined;
  let refreshing: Promise<boolean> | undefined;

  /** Re-read config and control plane; false (logged, redacted) when it failed. */
  const refresh = (): Promise<boolean> => {
    refreshing ??= source
      .refresh()
      .then(
        (changed) => changed,
        (err: unknown) => {
          log.warn(
            { err: { message: (err as Error).message } },
            'control-plane refresh failed; keeping the running config',
          );
          throw err;
        },
      )
      .finally(() => (refreshing = undefined));
    return refreshing;
  };

  /** Roll every worker onto the current data and wait until the old ones are gone. */
  const roll = async (): Promise<ControlReply> => {
    const before = new Set(supervisor.pids());
    supervisor.reload();
    const deadline = Date.now() + ROLL_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const now = supervisor.pids();
      if (now.length >= options.workers && now.every((p) => !before.has(p)))
        return { ok: true, message: `reloaded ${now.length} workers`, workers: now };
    }
    return {
      ok: false,
      message: 'reload did not complete in time (see the log)',
      workers: supervisor.pids(),
    };
  };

  const reload = async (): Promise<ControlReply> => {
    try {
      await refresh();
    } catch (err) {
      // Edge down: reload onto what we have (edgemicro's reload also restarts from the cache).
      log.warn(
        { err: { message: (err as Error).message } },
        'reloading with the last good control-plane data',
      );
    }
    try {
      source.compile();
    } catch (err) {
      return { ok: false, message: `configuration rejected: ${(err as Error).message}` };
    }
    return roll();
  };

  const status = (): ControlReply => {
    const workers = supervisor.pids();
    return {
      ok: true,
      message: `edgemicro is running with ${workers.length} workers`,
      workers,
      master: process.pid,
      origin: source.origin,
      proxies: source.edgeData.proxies.map((p) => `${p.name} ${p.base_path} -> ${p.url}`),
    };
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearTimeout(pollTimer);
      watcher?.close();
      await new Promise<void>((r) => (control ? control.close(() => r()) : r()));
      await supervisor.stop();
      detachCounters();
      await closePluginState();
      for (const f of [pidFile]) {
        try {
          unlinkSync(f);
        } catch {
          /* already gone */
        }
      }
      options.onStopped?.(0);
    })();
    return stopping;
  };

  // Control-plane poll with back-off: a failure is retried after 5 s, doubling up to the interval.
  const settings = source.settings.edgemicro;
  const intervalMs = settings.config_change_poll_interval * 1000;
  const polls =
    (source.options.mode === 'edge' || source.options.mode === 'local-proxy' || !!source.options.configUrl) &&
    !settings.disable_config_poll_interval;
  const schedule = (delay: number): void => {
    pollTimer = setTimeout(() => {
      refresh().then(
        async (changed) => {
          if (changed && !stopping) {
            log.info('control-plane data changed; rolling the workers');
            await roll();
          }
          if (!stopping) schedule(intervalMs);
        },
        () => {
          if (!stopping) schedule(Math.min(intervalMs, delay === intervalMs ? FIRST_RETRY_MS : delay * 2));
        },
      );
    }, delay);
    pollTimer.unref();
  };

  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('SIGHUP', () => void reload());
  await supervisor.start();
  control = await listenControl(sock, async (command) => {
    if (command === 'status') return status();
    if (command === 'reload') return reload();
    setImmediate(() => void stop());
    return { ok: true, message: 'edgemicro is stopping' };
  });
  // The socket file goes with the server; the pid file names the master.
  writeFileSync(pidFile, `${process.pid}\n`);
  if (polls) schedule(intervalMs);
  if (source.options.mode === 'standalone' && source.options.standaloneFile) {
    let debounce: NodeJS.Timeout | undefined;
    watcher = watch(source.options.standaloneFile, () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        refresh().then(
          async (changed) => {
            if (!changed || stopping) return;
            await roll();
            log.info('standalone file changed; workers rolled');
          },
          () => undefined,
        );
      }, 200);
    });
  }
  log.info(
    {
      workers: supervisor.pids(),
      origin: source.origin,
      proxies: source.edgeData.proxies.map((p) => p.name),
    },
    'edgemicro started',
  );
  return { supervisor, reload, stop };
}
