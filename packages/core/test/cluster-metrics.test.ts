// `gatehouse serve --workers 2`: /metrics shows the whole gateway whichever worker answers the
// scrape (workers share the admin port as they share the proxy's): request counters summed over
// the workers, process series and requests per worker under a `worker` label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatehouseConfig } from '../src/config/types.js';
import { CLI } from '../../../test/helpers/cli.js';
import { request } from '../../../test/helpers/client.js';
import { closedPort } from '../../../test/helpers/engine.js';
import { teeChildOutput } from '../../../test/helpers/log-tee.js';

/** The value of the series `name{labels}` exactly as printed, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

/** Every `worker` label value of the series named `name`, with its value. */
function perWorker(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*worker="(\\d+)"[^}]*\\} (\\S+)$`, 'gm')))
    out.set(m[1]!, Number(m[2]));
  return out;
}

test('/metrics with --workers 2 aggregates every worker, with worker labels', async (t) => {
  const port = await closedPort();
  const adminPort = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-cluster-metrics-'));
  const file = join(dir, 'gh.json');
  const config: GatehouseConfig = {
    log: { level: 'info' },
    admin: { port: adminPort },
    servers: [
      {
        name: 'web',
        listen: [{ address: '127.0.0.1', port }],
        routes: [{ name: 'hi', match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'hi' } }],
      },
    ],
  };
  writeFileSync(file, JSON.stringify(config));
  const primary = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--config', file, '--workers', '2'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const workerPids = new Set<number>();
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`two workers not ready in 30 s:\n${out}`)), 30_000);
    primary.stdout!.on('data', (c: Buffer) => {
      teeChildOutput(c);
      out += c.toString();
      for (const m of out.matchAll(/"pid":(\d+)[^\n]*"msg":"worker ready"/g)) workerPids.add(Number(m[1]));
      if (workerPids.size >= 2) {
        clearTimeout(timer);
        resolve();
      }
    });
    primary.on('exit', (code) => reject(new Error(`primary exited (${code}):\n${out}`)));
  });
  t.after(() => {
    if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
    for (const pid of workerPids)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    rmSync(dir, { recursive: true, force: true });
  });
  await ready;

  const scrape = async (): Promise<string> => {
    const r = await request(adminPort, '/metrics', { timeoutMs: 10_000 });
    assert.equal(r.status, 200, `${r.error ?? ''} ${r.text}`);
    return r.text;
  };
  const series = 'gatehouse_requests_total{server="web",route="hi",status_class="2xx"}';

  // Requests on many connections at once, in rounds, until both workers have answered some (the
  // kernel hands connections to whichever worker accepts first). Bounded: 20 rounds of 20.
  let sent = 0;
  let byWorker = new Map<string, number>();
  for (let round = 0; round < 20; round++) {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => request(port, '/', { agent: new http.Agent({ keepAlive: false }) })),
    );
    for (const r of replies) assert.equal(r.status, 200, r.error);
    sent += replies.length;
    byWorker = perWorker(await scrape(), 'gatehouse_worker_requests_total');
    if ([...byWorker.values()].filter((n) => n > 0).length === 2) break;
  }
  assert.equal(byWorker.size, 2, `two workers in gatehouse_worker_requests_total: ${[...byWorker]}`);
  assert.ok(
    [...byWorker.values()].every((n) => n > 0),
    `both workers answered requests: ${[...byWorker]} (the aggregate is only shown to add up when they did)`,
  );

  // Whichever worker answers the scrape, the totals are the gateway's.
  for (let i = 0; i < 6; i++) {
    const text = await scrape();
    assert.equal(sample(text, series), sent, `scrape ${i}: ${series}`);
    const workers = perWorker(text, 'gatehouse_worker_requests_total');
    assert.equal(
      [...workers.values()].reduce((a, b) => a + b, 0),
      sent,
    );
    assert.equal(sample(text, 'gatehouse_workers'), 2);
    const rss = perWorker(text, 'gatehouse_process_process_resident_memory_bytes');
    assert.equal(rss.size, 2, 'process series per worker');
    for (const bytes of rss.values()) assert.ok(bytes > 1024 * 1024);
    // A histogram's count adds up too.
    assert.equal(
      sample(text, 'gatehouse_request_duration_seconds_count{server="web",route="hi",status_class="2xx"}'),
      sent,
    );
  }

  primary.kill('SIGTERM');
  const code = await new Promise<number | null>((r) =>
    primary.exitCode !== null ? r(primary.exitCode) : primary.on('exit', (c) => r(c)),
  );
  assert.equal(code, 0);
});
