// Plugins fail closed: a route naming a plugin the engine cannot run is a config error (creation,
// reload, `gatehouse check`, the cluster primary); at run time such a request gets 500 and never
// reaches the upstream; a reload applies changed plugin config and plugin sets to new requests, in
// one process and with workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  ConfigError,
  createGatehouse,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  definePlugin,
  initPlugin,
  type GatehouseConfig,
} from '../src/index.js';
import { createLogger } from '../src/observability/logger.js';
import { CLI } from '../../../test/helpers/cli.js';
import { request } from '../../../test/helpers/client.js';
import { startUpstream, type Upstream } from '../../../test/helpers/engine.js';
import { teeChildOutput } from '../../../test/helpers/log-tee.js';

const quiet = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
const FIXTURES = join(import.meta.dirname, 'fixtures/plugins');

function routeConfig(upstream: string, plugins: string[], port = 0): GatehouseConfig {
  return {
    servers: [
      {
        listen: [{ address: '127.0.0.1', port }],
        routes: [{ match: { prefix: '/' }, plugins, action: { type: 'proxy', upstream } }],
      },
    ],
  };
}

const tagger = definePlugin({
  name: 'tagger',
  init: () => ({
    onRequest(ctx) {
      ctx.req.headers['x-tagged'] = 'yes';
    },
  }),
});

async function taggerPipeline() {
  const plugin = await initPlugin(
    'tagger',
    tagger,
    {},
    createPluginLogger(quiet, 'tagger'),
    createPluginStats(),
  );
  return createPluginPipeline({ plugins: [plugin], logger: quiet });
}

test('a route naming a plugin the engine cannot run is refused at creation, setPipeline and reload', async () => {
  const up = 'http://127.0.0.1:9';
  assert.throws(
    () => createGatehouse({ config: routeConfig(up, ['oauth']), logger: quiet }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /servers\[0\]\.routes\[0\]\.plugins\[0\]: unknown plugin "oauth"/.test(e.message),
  );
  const pipeline = await taggerPipeline();
  assert.throws(
    () => createGatehouse({ config: routeConfig(up, ['tagger', 'oauth']), logger: quiet, pipeline }),
    /plugins\[1\]: unknown plugin "oauth" \(this engine can run: tagger\)/,
  );
  const gh = createGatehouse({ config: routeConfig(up, ['tagger']), logger: quiet, pipeline });
  assert.throws(() => gh.setPipeline(undefined), /plugins\[0\]: unknown plugin "tagger"/);
  await gh.start();
  try {
    const port = gh.addresses()[0]!.port;
    await assert.rejects(gh.reload(routeConfig(up, ['oauth'], port)), /unknown plugin "oauth"/);
    await assert.rejects(gh.reload(routeConfig(up, ['tagger'], port), { pipeline: undefined }), ConfigError);
    assert.deepEqual(gh.snapshot.servers[0]!.routes[0]!.plugins, ['tagger'], 'the running config is kept');
  } finally {
    await gh.close(500);
  }
});

test('at run time a route whose plugin is gone answers 500 and never reaches the upstream', async () => {
  const up = await startUpstream();
  const pipeline = await taggerPipeline();
  const gh = createGatehouse({ config: routeConfig(up.url, ['tagger']), logger: quiet, pipeline });
  await gh.start();
  const base = `http://127.0.0.1:${gh.addresses()[0]!.port}`;
  try {
    const ok = await request(`${base}/a`);
    assert.equal(ok.status, 200);
    assert.equal(up.seen.at(-1)!.headers['x-tagged'], 'yes');
    // The registry loses the plugin (a product swapping its plugin set): the route must not run bare.
    pipeline.setPlugins([]);
    const before = up.seen.length;
    const refused = await request(`${base}/b`);
    assert.equal(refused.status, 500);
    assert.match(refused.text, /plugin not found: tagger/);
    assert.equal(up.seen.length, before, 'the upstream never saw the request');
  } finally {
    await gh.close(500);
    await up.close();
  }
});

/** A plugin directory with the add-headers fixture (its `tag` config goes to `x-added-by`). */
function pluginWorkspace(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-plugins-'));
  cpSync(join(FIXTURES, 'add-headers'), join(dir, 'plugins/add-headers'), { recursive: true });
  cpSync(join(FIXTURES, 'reject'), join(dir, 'plugins/reject'), { recursive: true });
  return { dir, file: join(dir, 'gh.json') };
}

function fileConfig(upstream: string, port: number, plugins: string[], tag: string): string {
  return JSON.stringify({
    servers: [
      {
        listen: [{ address: '127.0.0.1', port }],
        routes: [{ match: { prefix: '/' }, plugins, action: { type: 'proxy', upstream } }],
      },
    ],
    plugins: { dir: 'plugins', config: { 'add-headers': { tag } } },
    log: { level: 'info' },
  });
}

function check(file: string): { status: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'check', '--config', file],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('gatehouse check refuses a route whose plugin is not in plugins.dir, or with no plugins section', () => {
  const { dir, file } = pluginWorkspace();
  try {
    writeFileSync(file, fileConfig('http://127.0.0.1:9', 0, ['add-headers', 'oauth'], 'one'));
    const missing = check(file);
    assert.notEqual(missing.status, 0);
    assert.match(missing.out, /servers\[0\]\.routes\[0\]\.plugins\[1\]: plugin "oauth" not found/);
    writeFileSync(
      file,
      JSON.stringify({ servers: JSON.parse(fileConfig('http://127.0.0.1:9', 0, ['oauth'], '')).servers }),
    );
    const noSection = check(file);
    assert.notEqual(noSection.status, 0);
    assert.match(noSection.out, /plugins\[0\]: unknown plugin "oauth": the config has no plugins section/);
    writeFileSync(file, fileConfig('http://127.0.0.1:9', 0, ['add-headers'], 'one'));
    assert.equal(check(file).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll until the upstream's last request satisfies `ok` (bounded). */
async function until(
  base: string,
  up: Upstream,
  ok: (status: number, seen: Upstream['seen'][number] | undefined) => boolean,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const before = up.seen.length;
      const r = await request(`${base}/probe`, { headers: { 'x-api-key': 'k' } });
      if (r.status !== undefined && ok(r.status, up.seen.length > before ? up.seen.at(-1) : undefined))
        return;
    } catch {
      // A worker being replaced: try again.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

for (const workers of [0, 1]) {
  test(`serve${workers ? ' --workers 1' : ''}: a reload re-initialises plugins with their new config and plugin set`, async () => {
    const up = await startUpstream();
    const { dir, file } = pluginWorkspace();
    const port = await freePort();
    writeFileSync(file, fileConfig(up.url, port, ['add-headers'], 'one'));
    const args = ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--config', file];
    if (workers) args.push('--workers', String(workers));
    const proc: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.stdout!.on('data', (c: Buffer) => teeChildOutput(c));
    const base = `http://127.0.0.1:${port}`;
    try {
      await until(base, up, (s, seen) => s === 200 && seen?.headers['x-added-by'] === 'one', 'tag one');
      // Changed plugin config: new requests see it.
      writeFileSync(file, fileConfig(up.url, port, ['add-headers'], 'two'));
      await until(base, up, (s, seen) => s === 200 && seen?.headers['x-added-by'] === 'two', 'tag two');
      // Changed plugin set: `reject` (refuses requests without x-api-key) now runs first.
      writeFileSync(file, fileConfig(up.url, port, ['reject', 'add-headers'], 'two'));
      const before = up.seen.length;
      const deadline = Date.now() + 20_000;
      let refused = 0;
      while (Date.now() < deadline && refused === 0) {
        const r = await request(`${base}/no-key`).catch(() => undefined);
        if (r?.status !== undefined && r.status >= 400 && r.status < 500) refused = r.status;
        else await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(refused, 'the new plugin set is applied');
      await until(
        base,
        up,
        (s, seen) => s === 200 && seen?.headers['x-added-by'] === 'two',
        'keyed request passes',
      );
      // A reload naming a plugin that is not there is refused; the running set keeps serving.
      writeFileSync(file, fileConfig(up.url, port, ['oauth'], 'two'));
      await new Promise((r) => setTimeout(r, 1500));
      const stillRefused = await request(`${base}/no-key`);
      assert.equal(stillRefused.status, refused);
      assert.ok(up.seen.length > before);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
      await up.close();
    }
  });
}
