// `gatehouse serve --workers 2` as a real process under 200 concurrent keep-alive clients: rolling
// reloads (file change and SIGHUP, one arriving during another coalesced) lose no request and end with
// all-new workers; a worker killed with SIGKILL loses only what was in flight on its connections and
// is replaced; a broken config file is refused without touching the workers; SIGTERM drains and exits 0.
// The tests run in order on one primary process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, startEchoUpstream, type EchoUpstream } from '../helpers/engine.js';
import type { GatehouseConfig } from '../../packages/core/src/config/types.js';
import { teeChildOutput } from '../helpers/log-tee.js';
import { CLI } from '../helpers/cli.js';
import { request, type ClientOutcome } from '../helpers/client.js';

const DRAIN_TIMEOUT_MS = 5000;
/** Pause of a client between two requests. */
const THINK_MS = 100;

let a: EchoUpstream;
let b: EchoUpstream;
let port: number;
let dir: string;
let file: string;
let primary: ChildProcess;
/** Every JSON line the primary and its workers printed, in order. */
const events: Array<Record<string, unknown>> = [];

/** Generation g proxies to upstream a or b (alternating) and tags responses with g. */
function config(g: number): GatehouseConfig {
  const route = (prefix: string) => ({
    match: { prefix },
    action: { type: 'proxy' as const, upstream: 'app' },
    addResponseHeaders: [{ name: 'x-generation', value: String(g) }],
  });
  return {
    limits: { keepAliveTimeoutMs: 10_000 },
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    log: { level: 'info' },
    upstreams: { app: { url: g % 2 === 0 ? a.url : b.url } },
    servers: [{ listen: [{ address: '127.0.0.1', port }], routes: [route('/slow'), route('/')] }],
  };
}

/** Replace the config file the way editors and Kubernetes do: write aside, rename over. */
function writeConfig(text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first event at index >= `from` that `match` accepts, waiting up to `ms`. */
async function waitFor(
  match: (e: Record<string, unknown>) => boolean,
  from = 0,
  ms = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = events.slice(from).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${ms} ms`);
    await sleep(25);
  }
}

const msg = (m: string) => (e: Record<string, unknown>) => e.msg === m && e.role === 'primary';
const count = (m: string, from = 0) => events.slice(from).filter(msg(m)).length;

/** Pids of the workers that reported ready and have not exited. */
function liveWorkers(): number[] {
  const exited = new Set(events.filter(msg('worker exited')).map((e) => e.pid));
  return [...new Set(events.filter(msg('worker ready')).map((e) => e.pid as number))].filter(
    (p) => !exited.has(p),
  );
}

type Outcome = ClientOutcome;

const get = (path: string, agent: http.Agent | false, timeoutMs = 10_000): Promise<Outcome> =>
  request(port, path, { agent, timeoutMs });
const generation = (r: Outcome): string | undefined => r.headers['x-generation'] as string | undefined;

const ok = (r: Outcome) => r.status === 200 && r.complete;
const describe = (r: Outcome) => `${r.reused ? 'reused' : 'new'} ${r.status ?? '-'} ${r.error ?? ''}`;

interface LoadResult {
  completed: number;
  failures: Outcome[];
  /** Outcomes of the one retry each failure got on a new connection. */
  retries: Outcome[];
  generations: Set<string>;
}

/** 200 keep-alive clients until stop(); with `retry`, a failed request is retried once on a new connection. */
function startLoad(options: { retry?: boolean; stopWhenRefused?: () => boolean } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200, scheduling: 'fifo' });
  const result: LoadResult = { completed: 0, failures: [], retries: [], generations: new Set() };
  let stopped = false;
  const hardStop = Date.now() + 30_000;
  const client = async (): Promise<void> => {
    while (!stopped && Date.now() < hardStop) {
      const r = await get('/load', agent);
      if (ok(r)) {
        result.completed++;
        result.generations.add(generation(r) ?? '?');
        // A short pause keeps 2 cores from being saturated by the clients alone (workers must still start).
        await sleep(THINK_MS);
        continue;
      }
      // Shutting down: a new connection refused or reset before any answer was never accepted.
      if (options.stopWhenRefused?.() && !r.reused && r.status === undefined) return;
      result.failures.push(r);
      if (options.retry) result.retries.push(await get('/load', false));
    }
  };
  const clients = Array.from({ length: 200 }, client);
  return {
    result,
    async stop(): Promise<LoadResult> {
      stopped = true;
      await Promise.all(clients);
      agent.destroy();
      return result;
    },
  };
}

before(async () => {
  const handler = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(name);
    };
    if (req.url?.startsWith('/slow')) setTimeout(answer, 800);
    else answer();
    return true;
  };
  a = await startEchoUpstream(handler('a'));
  b = await startEchoUpstream(handler('b'));
  port = await closedPort();
  dir = mkdtempSync(join(tmpdir(), 'gh-cluster-'));
  file = join(dir, 'gh.json');
  writeConfig(JSON.stringify(config(0)));
  primary = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--config', file, '--workers', '2'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let partial = '';
  primary.stdout!.on('data', (c: Buffer) => {
    teeChildOutput(c);
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines)
      if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  await waitFor(() => liveWorkers().length === 2, 0, 20_000);
});

after(async () => {
  // Whatever a failed test left running: the primary, then its workers, by pid.
  if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
  for (const pid of liveWorkers()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'three rolling reloads under load: zero failed requests, new generation, all-new workers, still two',
  { timeout: 60_000 },
  async () => {
    const initial = liveWorkers();
    assert.equal(initial.length, 2);
    const from = events.length;
    const load = startLoad();
    await sleep(300);
    // Reload 1: a file change. While it rolls, two SIGHUPs and another change: coalesced into reload 2.
    writeConfig(JSON.stringify(config(1)));
    await waitFor(msg('reload started'), from);
    primary.kill('SIGHUP');
    primary.kill('SIGHUP');
    writeConfig(JSON.stringify(config(2)));
    await waitFor(() => count('reload complete', from) === 2, from, 30_000);
    // Reload 3: SIGHUP alone (same file): the workers are replaced all the same.
    primary.kill('SIGHUP');
    await waitFor(() => count('reload complete', from) === 3, from, 30_000);
    await sleep(300);
    const r = await load.stop();
    assert.deepEqual(r.failures.map(describe).slice(0, 5), [], `${r.failures.length} failed requests`);
    assert.ok(r.completed > 1000, `only ${r.completed} requests completed`);
    assert.deepEqual([...r.generations].sort(), ['0', '1', '2'], 'responses came from every generation');
    assert.equal(count('reload started', from), 3, 'the reloads asked for during reload 1 ran once');
    const after = await Promise.all(Array.from({ length: 10 }, () => get('/x', false)));
    assert.deepEqual(new Set(after.map(generation)), new Set(['2']));
    const live = liveWorkers();
    assert.equal(live.length, 2, `workers: ${live.join(', ')}`);
    assert.ok(!live.some((p) => initial.includes(p)), 'every worker is new');
    const last = events.filter(msg('reload complete')).at(-1)!;
    assert.deepEqual([...(last.workers as number[])].sort(), [...live].sort());
  },
);

test(
  'SIGKILL of a worker: only its in-flight requests fail, each succeeds when retried, a replacement becomes ready',
  { timeout: 30_000 },
  async () => {
    const before = liveWorkers();
    assert.equal(before.length, 2);
    const from = events.length;
    const load = startLoad({ retry: true });
    await sleep(300);
    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    const exited = await waitFor((e) => msg('worker exited')(e) && e.pid === victim, from);
    assert.equal(exited.signal, 'SIGKILL');
    assert.equal(typeof exited.restartInMs, 'number');
    await waitFor((e) => msg('worker ready')(e) && !before.includes(e.pid as number), from);
    await sleep(300);
    const r = await load.stop();
    assert.deepEqual(r.retries.filter((x) => !ok(x)).map(describe), [], 'a retried request failed');
    assert.equal(r.retries.length, r.failures.length);
    assert.ok(r.completed > 500, `only ${r.completed} requests completed`);
    const live = liveWorkers();
    assert.equal(live.length, 2);
    assert.ok(!live.includes(victim));
    assert.ok(live.includes(before[1]!), 'the other worker kept running');
  },
);

test(
  'a broken config file during load: refused and logged, workers untouched, no failed request',
  { timeout: 20_000 },
  async () => {
    const workers = liveWorkers();
    const from = events.length;
    const load = startLoad();
    await sleep(200);
    writeConfig('{ "servers": [ broken');
    const rejected = await waitFor(msg('configuration rejected; keeping the running workers'), from);
    assert.match(
      String((rejected.err as { message?: string }).message),
      /gh\.json[^\n]*\n.*JSON syntax error/,
    );
    await sleep(500);
    const r = await load.stop();
    assert.deepEqual(r.failures.map(describe).slice(0, 5), [], `${r.failures.length} failed requests`);
    assert.deepEqual([...r.generations], ['2']);
    for (const m of ['reload started', 'worker ready', 'worker exited']) assert.equal(count(m, from), 0, m);
    assert.deepEqual(liveWorkers(), workers);
  },
);

test(
  'SIGTERM to the primary during load: in-flight requests complete, it exits 0 within the drain timeout',
  { timeout: 20_000 },
  async () => {
    const workers = liveWorkers();
    let terminated = false;
    const load = startLoad({ stopWhenRefused: () => terminated });
    const seen = a.requests.length;
    const slow = Array.from({ length: 20 }, () => get('/slow', false));
    const deadline = Date.now() + 3000;
    while (a.requests.slice(seen).filter((q) => q.url === '/slow').length < 20 && Date.now() < deadline)
      await sleep(10);
    const exit = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    const started = Date.now();
    terminated = true;
    primary.kill('SIGTERM');
    const slowResults = await Promise.all(slow);
    assert.deepEqual(slowResults.filter((x) => !ok(x)).map(describe), [], 'an in-flight request failed');
    const code = await exit;
    const took = Date.now() - started;
    const r = await load.stop();
    assert.equal(code, 0);
    assert.ok(took < DRAIN_TIMEOUT_MS, `exited after ${took} ms`);
    assert.deepEqual(r.failures.map(describe).slice(0, 5), [], `${r.failures.length} requests lost`);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'worker gone');
    assert.equal(count('all workers exited'), 1);
  },
);
