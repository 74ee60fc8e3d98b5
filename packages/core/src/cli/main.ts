#!/usr/bin/env node
// `gatehouse` command line: serve a native config, check one (like `nginx -t`), run the demo, make
// development certificates.
// First: the heap profile must be set before the engine's modules allocate.
import { heapProfile } from './heap-profile.js';
import { dirname, resolve } from 'node:path';
import type { Gatehouse } from '../gatehouse.js';
import { compileConfig } from '../config/compile.js';
import { readConfigFile } from '../config/load.js';
import { ConfigError } from '../config/validate.js';
import { buildEngine, reloadEngine } from './build-engine.js';
import { checkedConfig, readValidConfig, watchConfigFile } from './config-file.js';

const USAGE = `usage:
  gatehouse serve --config FILE [--workers N|auto] [--heap balanced|compact|node]
                                     run the proxy (SIGHUP or a file change reloads; SIGTERM drains);
                                     --workers: N worker processes, rolled one by one on reload;
                                     --heap: balanced (default: young generation capped at 2 MiB),
                                     compact (least memory, some throughput) or node (V8's defaults)
  gatehouse check --config FILE      validate a config and print what it serves; non-zero on error
  gatehouse demo [--port 8000]       a demo proxy on 127.0.0.1 in front of a built-in upstream
  gatehouse cert ca|server|client …  development certificates (see gatehouse cert --help)`;

function option(args: string[], name: string, short?: string): string | undefined {
  const i = args.findIndex((a) => a === name || (short !== undefined && a === short));
  if (i !== -1) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

function printError(err: unknown): void {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`gatehouse: ${(err as Error)?.message ?? String(err)}`);
}

function handleSignals(engine: Gatehouse, onHup?: () => void): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    engine.logger.info({ signal }, 'draining');
    engine.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (onHup) process.on('SIGHUP', onHup);
}

async function serve(args: string[]): Promise<number> {
  const file = option(args, '--config', '-c');
  if (!file) {
    console.error(USAGE);
    return 2;
  }
  const path = resolve(file);
  // A worker forked by `serve --workers` (node:cluster loads only for those).
  if (process.env.GATEHOUSE_WORKER === '1' && (await import('node:cluster')).default.isWorker) {
    const { runWorker } = await import('../cluster/worker.js');
    runWorker({ build: buildEngine });
    return -1;
  }
  if (args.some((a) => a === '--workers' || a.startsWith('--workers='))) {
    const { parseWorkerCount } = await import('../cluster/worker-count.js');
    const workers = parseWorkerCount(option(args, '--workers'));
    if (workers instanceof Error) {
      console.error(`gatehouse: ${workers.message}\n${USAGE}`);
      return 2;
    }
    return serveCluster(path, workers);
  }
  let engine: Gatehouse;
  try {
    engine = await buildEngine(readValidConfig(path), dirname(path));
    await engine.start();
  } catch (err) {
    printError(err);
    return 1;
  }
  const reload = (): void => {
    let config: unknown;
    try {
      config = readConfigFile(path);
    } catch (err) {
      engine.logger.error(
        { err: { message: (err as Error).message } },
        'configuration rejected; keeping the running one',
      );
      engine.metrics.reloads.inc({ result: 'failure' });
      return;
    }
    reloadEngine(engine, config, dirname(path)).catch(() => undefined);
  };
  watchConfigFile(path, reload);
  handleSignals(engine, reload);
  return -1;
}

/** The cluster primary: validates the config, runs N workers, rolls them on reload, drains them on stop. */
async function serveCluster(path: string, workers: number): Promise<number> {
  const { Supervisor } = await import('../cluster/supervisor.js');
  let supervisor: InstanceType<typeof Supervisor>;
  try {
    supervisor = new Supervisor({ workers, readConfig: () => readValidConfig(path), baseDir: dirname(path) });
  } catch (err) {
    printError(err);
    return 1;
  }
  // Signals are handled from the start: workers can take seconds to become ready.
  const reload = (): void => supervisor.reload();
  const watcher = watchConfigFile(path, reload);
  const stop = (signal: string): void => {
    supervisor.logger.info({ signal }, 'draining');
    watcher.close();
    supervisor.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', reload);
  try {
    await supervisor.start();
  } catch (err) {
    printError(err);
    return 1;
  }
  return -1;
}

function check(args: string[]): number {
  const file = option(args, '--config', '-c');
  if (!file) {
    console.error(USAGE);
    return 2;
  }
  try {
    const snap = compileConfig(checkedConfig(readConfigFile(resolve(file)), file), file);
    for (const s of snap.servers) {
      const listen = s.listen
        .map((l) => `${l.tls ? 'https' : 'http'}://${l.address ?? '127.0.0.1'}:${l.port}`)
        .join(', ');
      console.log(`server ${s.name} on ${listen}`);
      for (const r of s.routes) {
        const a = r.action;
        const to =
          a.type === 'return'
            ? `return ${a.status}`
            : `proxy ${a.upstream?.origin ?? a.upstreamTemplate?.source} (${a.target})`;
        console.log(`  ${r.internal ? '(internal) ' : ''}${r.name} -> ${to}`);
      }
    }
    console.log(`${file}: configuration is valid`);
    return 0;
  } catch (err) {
    printError(err);
    return 1;
  }
}

async function demo(args: string[]): Promise<number> {
  const port = Number(option(args, '--port') ?? process.env.PORT ?? 8000);
  const { startDemoUpstream } = await import('../demo/demo-upstream.js');
  const upstream = await startDemoUpstream();
  const { createGatehouse } = await import('../gatehouse.js');
  const { demoConfig } = await import('../demo/demo-config.js');
  const engine = createGatehouse({ config: demoConfig(port, upstream.port) });
  try {
    await engine.start();
  } catch (err) {
    printError(err);
    await upstream.close();
    return 1;
  }
  const admin = engine.adminAddress();
  // --port 0 binds any free port: print the one bound.
  const bound = engine.addresses()[0]?.port ?? port;
  console.log(`
Gatehouse demo proxy listening on http://127.0.0.1:${bound} (upstream: built-in demo on port ${upstream.port})
Try:
  curl -s http://127.0.0.1:${bound}/                         # what the demo serves
  curl -i http://127.0.0.1:${bound}/hello
  curl -s http://127.0.0.1:${bound}/api/anything?x=1        # base path /api -> upstream /echo/anything?x=1
  curl -i http://127.0.0.1:${bound}/nowhere                  # 404 JSON
  curl -s http://127.0.0.1:${admin?.port}/metrics | grep gatehouse_requests_total
Ctrl-C drains and stops.
`);
  handleSignals(engine);
  process.on('exit', () => void upstream.close());
  return -1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (heapProfile instanceof Error) {
    console.error(`gatehouse: ${heapProfile.message}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'serve':
      return serve(args);
    case 'check':
      return check(args);
    case 'demo':
      return demo(args);
    case 'cert':
      // node-forge is only needed here: keep it out of the proxy's memory.
      return (await import('./cert-command.js')).runCertCommand(args);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`gatehouse: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    printError(err);
    process.exit(1);
  },
);
