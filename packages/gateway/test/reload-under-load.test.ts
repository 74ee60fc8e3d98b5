// Rolling reloads lose nothing: a poll that finds a changed proxy list serves the new proxy while
// clients keep calling the old one, and `edgemicro reload` rolls three workers under load. Load is
// bounded in time and count; nothing here measures speed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  bootstrapProxy,
  startEdgeEmulator,
  type EdgeEmulator,
} from '../../../test/emulators/edge/edge-emulator.js';
import {
  cli,
  runCli,
  startUpstream,
  tempDir,
  writeConfig,
  type Upstream,
  edgeConfigYaml,
} from './helpers.js';
import { closedPort } from '../../../test/helpers/engine.js';

const tmp = tempDir();
let up: Upstream;
let edge: EdgeEmulator;

before(async () => {
  up = await startUpstream('hello');
  edge = await startEdgeEmulator({
    key: 'k',
    secret: 's',
    proxies: [bootstrapProxy('edgemicro_hello', '/hello', up.url)],
  });
});
after(async () => {
  await edge.close();
  await up.close();
  tmp.cleanup();
});

interface Load {
  ok: number;
  failures: string[];
  stop(): Promise<void>;
}

/** `clients` loops calling `url` until stopped (at most `maxMs`, at most 20,000 requests). */
function load(url: string, clients: number, maxMs = 30_000): Load {
  const state: Load = { ok: 0, failures: [], stop: async () => undefined };
  let running = true;
  const deadline = Date.now() + maxMs;
  let total = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running && Date.now() < deadline && total++ < 20_000) {
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status === 200) state.ok++;
        else state.failures.push(`status ${res.status}`);
      } catch (err) {
        state.failures.push(String((err as { cause?: unknown }).cause ?? err));
      }
    }
  });
  state.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return state;
}

test('a poll that finds a changed proxy list serves the new proxy, with no failed request', async () => {
  const dir = join(tmp.dir, 'poll');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  writeConfig(
    dir,
    'o',
    'test',
    edgeConfigYaml(edge.urls, [
      'edgemicro:',
      '  port: 8000',
      '  address: 127.0.0.1',
      '  config_change_poll_interval: 1',
      '  logging: { level: info, to_console: true }',
      '  plugins: { sequence: [] }',
    ]),
  );
  const port = await closedPort();
  const gw = runCli(['start', '-o', 'o', '-e', 'test', '-c', dir, '-r', String(port), '-p', '1'], dir, {
    EDGEMICRO_KEY: 'k',
    EDGEMICRO_SECRET: 's',
  });
  try {
    await gw.waitFor(/edgemicro started/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/new/x`)).status, 404);
    const l = load(`http://127.0.0.1:${port}/hello/x`, 2);
    await new Promise((r) => setTimeout(r, 300));
    edge.setProxies([
      bootstrapProxy('edgemicro_hello', '/hello', up.url),
      bootstrapProxy('edgemicro_new', '/new', up.url),
    ]);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await fetch(`http://127.0.0.1:${port}/new/x`)).status;
    }
    await new Promise((r) => setTimeout(r, 300));
    await l.stop();
    assert.equal(status, 200, 'the new proxy is served');
    assert.deepEqual(l.failures, []);
    assert.ok(l.ok > 10, `requests made: ${l.ok}`);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    assert.doesNotMatch(gw.output(), /"s"|secret/i);
  } finally {
    gw.child.kill('SIGKILL');
  }
});

test('three workers: a rolling reload under load loses no request; SIGTERM drains and exits 0', async () => {
  const dir = join(tmp.dir, 'workers');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  writeConfig(
    dir,
    'demo',
    'test',
    [
      'edgemicro:',
      '  port: 8000',
      '  address: 127.0.0.1',
      '  logging: { level: info, to_console: true }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'standalone.yaml'),
    `proxies:\n  - { name: edgemicro_hello, base_path: /hello, url: "${up.url}" }\n`,
  );
  const port = await closedPort();
  const gw = runCli(
    ['start', '-o', 'demo', '-e', 'test', '-c', dir, '--standalone', 'standalone.yaml', '-r', String(port)],
    dir,
    {
      EDGEMICRO_PROCESSES: '3',
    },
  );
  try {
    await gw.waitFor(/edgemicro started: 3 worker/);
    const l = load(`http://127.0.0.1:${port}/hello/x`, 4);
    await new Promise((r) => setTimeout(r, 300));
    const before = l.ok;
    const reload = await cli(['reload'], dir);
    assert.equal(reload.code, 0, reload.out);
    assert.match(reload.out, /reloaded 3 workers/);
    await new Promise((r) => setTimeout(r, 300));
    await l.stop();
    assert.deepEqual(l.failures, []);
    assert.ok(l.ok > before, 'requests were served during the reload');
    const status = await cli(['status'], dir);
    assert.match(status.out, /running with 3 workers/);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.output().slice(-3000));
  } finally {
    gw.child.kill('SIGKILL');
  }
});
