// Soak: mixed traffic through the engine for a long time (default 10 minutes), sampling its RSS, to
// show memory stays flat. `pnpm bench:soak [--minutes N] [--connections N]`; needs nginx and wrk.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { minuteMeans, soakBlock, writeSoakBlock } from './report/soak-section.js';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOrigin } from './env/origin.js';
import { freePort, waitForPort } from './proc/ports.js';
import { isAlive, runToEnd, setCoreCount, start, stopAll } from './proc/registry.js';
import { currentRss } from './proc/stats.js';
import { parseWrk } from './load/wrk.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

// Mixed traffic: small GETs, 1 MiB downloads, 64 KiB uploads, 404s, and a reload-free keep-alive mix.
const LUA = `
local paths = { "/", "/", "/", "/", "/files/1m.bin", "/nowhere/x", "/api/items?x=1" }
local body = string.rep("u", 65536)
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/upload", { ["Content-Type"] = "application/octet-stream" }, body)
  end
  return wrk.format("GET", paths[(n % #paths) + 1])
end
`;

async function main(): Promise<void> {
  const minutes = arg('--minutes', 10);
  const connections = arg('--connections', 50);
  setCoreCount(cpus().length);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-soak-'));
  const cleanup = async (): Promise<void> => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const origin = await startOrigin(join(dir, 'origin-run'));
    const port = await freePort();
    const config = {
      servers: [
        {
          listen: [{ address: '127.0.0.1', port }],
          routes: [
            { match: { prefix: '/nowhere' }, action: { type: 'return', status: 404, body: 'no' } },
            { match: { basePath: '/api' }, action: { type: 'proxy', upstream: 'origin' } },
            { match: { prefix: '/' }, action: { type: 'proxy', upstream: 'origin' } },
          ],
        },
      ],
      upstreams: { origin: { url: `http://127.0.0.1:${origin.port}` } },
      log: { level: 'warn' },
      admin: { port: 0 },
    };
    mkdirSync(join(dir, 'gh'), { recursive: true });
    const file = join(dir, 'gh', 'gatehouse.json');
    writeFileSync(file, JSON.stringify(config));
    const gh = start(
      'gatehouse',
      process.execPath,
      [join(repoRoot, 'packages/core/dist/cli/main.js'), 'serve', '--config', file],
      'proxy',
    );
    if (!(await waitForPort(port, 10_000, () => isAlive(gh))))
      throw new Error(`gatehouse did not start: ${gh.stderr()}`);
    const script = join(dir, 'mixed.lua');
    writeFileSync(script, LUA);
    const samples: Array<{ second: number; rssMiB: number }> = [];
    const t0 = Date.now();
    const sample = (): void => {
      samples.push({ second: Math.round((Date.now() - t0) / 1000), rssMiB: currentRss(gh.pid) / 1048576 });
    };
    const timer = setInterval(sample, 10_000);
    sample();
    process.stderr.write(
      `soak: ${minutes} min of mixed traffic, ${connections} connections, RSS sampled every 10 s\n`,
    );
    const run = await runToEnd(
      'wrk',
      'wrk',
      [
        '-t1',
        `-c${connections}`,
        `-d${minutes * 60}s`,
        '--latency',
        '-s',
        script,
        `http://127.0.0.1:${port}/`,
      ],
      'load',
      (minutes * 60 + 30) * 1000,
    );
    clearInterval(timer);
    sample();
    const result = parseWrk(run.stdout);
    // Flat means: after the first minute (warm-up, JIT, pools), RSS does not keep growing.
    // RSS is a saw-tooth (the young generation fills and empties): compare minute means, not two samples.
    const minutes_ = minuteMeans(samples);
    const max = Math.max(...samples.map((s) => s.rssMiB));
    const report = {
      minutes,
      connections,
      requests: result.requests,
      reqPerSecond: Math.round(result.requests / result.seconds),
      // wrk counts the intended 404s (/nowhere) as errors: report them apart from socket errors.
      non2xx3xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1] ?? 0),
      socketErrors: /Socket errors: ([^\n]*)/.exec(run.stdout)?.[1] ?? 'none',
      rssMiB: {
        afterWarmup: round(minutes_[1] ?? minutes_[0]!),
        end: round(minutes_.at(-1)!),
        max: round(max),
      },
      growthAfterWarmupMiB: round(minutes_.at(-1)! - (minutes_[1] ?? minutes_[0]!)),
      minuteMeansMiB: minutes_.map(round),
      samples: samples.map((s) => ({ ...s, rssMiB: round(s.rssMiB) })),
    };
    mkdirSync(join(repoRoot, 'bench/out'), { recursive: true });
    const outFile = join(
      repoRoot,
      'bench/out',
      `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
    writeFileSync(outFile, JSON.stringify(report, null, 1));
    if (process.argv.includes('--write-results'))
      writeSoakBlock(
        join(repoRoot, 'bench/RESULTS.md'),
        soakBlock(
          report,
          `pnpm bench:soak --minutes ${minutes} --write-results`,
          new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
          relative(repoRoot, outFile),
        ),
      );
    console.log(
      `soak: ${report.requests} requests (${report.reqPerSecond}/s; ${report.non2xx3xx} non-2xx/3xx, the 404 route is 1/7 of GETs; socket errors: ${report.socketErrors}); RSS after warm-up ${report.rssMiB.afterWarmup} MiB, end ${report.rssMiB.end} MiB, max ${report.rssMiB.max} MiB; growth after warm-up ${report.growthAfterWarmupMiB} MiB\n${outFile}`,
    );
  } finally {
    await cleanup();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((err: unknown) => {
  console.error(`soak: ${(err as Error).message}`);
  process.exit(1);
});
