// The packages as users get them: `pnpm pack` core and gateway, `npm i` both tarballs into an empty
// project, and run the README's migration example (taken from the README, so the two cannot drift)
// from require() and from import against a loopback target. Needs the npm registry for the
// third-party dependencies: skipped, saying so, when it is unreachable. Needs `pnpm build` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { freePort, request, startTarget } from './support.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const CORE = join(ROOT, 'packages/core');
const GATEWAY = join(ROOT, 'packages/gateway');
const REGISTRY = 'https://registry.npmjs.org/';

async function registryProblem(): Promise<string | undefined> {
  try {
    const r = await fetch(`${REGISTRY}-/ping`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? undefined : `npm registry answered ${r.status}`;
  } catch (err) {
    return `npm registry unreachable (${(err as Error).message})`;
  }
}

/** The first ```js block of the README's "Migrating from microgateway-core" section. */
function migrationExample(): string {
  const text = readFileSync(join(GATEWAY, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## Migrating from microgateway-core'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has the migration example');
  return m[1]!;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs });
  assert.equal(
    r.status,
    0,
    `${cmd} ${args.join(' ')} failed (${r.error?.message ?? ''}):\n${r.stdout}\n${r.stderr}`,
  );
  return r.stdout;
}

async function runExample(dir: string, file: string, target: string): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), TARGET: target, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes(`listening on ${port}`)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `${file} did not start:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-gateway'], 'gatehouse');
    assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `${file} did not stop cleanly:\n${err}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

test(
  'packed tarballs install into an empty project; the README example runs from require() and import',
  { timeout: 480_000 },
  async (t) => {
    const problem = await registryProblem();
    if (problem) return t.skip(problem);
    for (const pkg of [CORE, GATEWAY])
      assert.ok(existsSync(join(pkg, 'dist/index.js')), `${pkg}/dist is missing: run pnpm build first`);
    const dir = mkdtempSync(join(tmpdir(), 'gh-packed-'));
    const target = await startTarget();
    try {
      const packs = join(dir, 'packs');
      for (const pkg of [CORE, GATEWAY]) run('pnpm', ['pack', '--pack-destination', packs], pkg, 120_000);
      const tarballs = readdirSync(packs).map((f) => join(packs, f));
      assert.equal(tarballs.length, 2);
      const project = join(dir, 'project');
      run('mkdir', ['-p', project], dir, 5000);
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: 'migrated', version: '1.0.0', private: true }),
      );
      run(
        'npm',
        ['i', '--no-audit', '--no-fund', '--loglevel=error', `--registry=${REGISTRY}`, ...tarballs],
        project,
        200_000,
      );

      // Both entries' declarations type-check a consumer (CommonJS and ESM, strict, node16 resolution).
      writeFileSync(
        join(project, 'check.cts'),
        [
          "import gateway = require('@gatehouse/gateway');",
          "const gw = gateway({ edgemicro: { port: 8000 }, proxies: [{ base_path: '/v1', url: 'http://127.0.0.1:1' }] });",
          "gw.addPlugin('p', (config, logger) => { logger.info({}, 'x'); return { onrequest(_q: unknown, _s: unknown, next: () => void) { next(); } }; });",
          'gw.start((err, server) => { if (!err && server) console.log(server.address().port); });',
          'gw.stop(() => undefined);',
          "gateway.Logging.getLogger().warn('x');",
        ].join('\n'),
      );
      writeFileSync(
        join(project, 'check.mts'),
        [
          "import gateway, { type MicrogatewayConfig } from '@gatehouse/gateway';",
          'const c: MicrogatewayConfig = { edgemicro: { port: 1 } };',
          'gateway(c).start((err) => void err);',
          'gateway.Logging.init(c);',
        ].join('\n'),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--types',
          'node',
          '--typeRoots',
          join(ROOT, 'node_modules/@types'),
          'check.cts',
          'check.mts',
        ],
        project,
        180_000,
      );

      const example = migrationExample();
      const requireLine = "const gateway = require('@gatehouse/gateway');";
      assert.ok(example.includes(requireLine));
      writeFileSync(join(project, 'server.cjs'), example);
      writeFileSync(
        join(project, 'server.mjs'),
        example.replace(requireLine, "import gateway from '@gatehouse/gateway';"),
      );
      for (const [file, entry] of [
        ['server.cjs', 'cjs/index.cjs'],
        ['server.mjs', 'dist/index.js'],
      ] as const) {
        assert.ok(existsSync(join(project, 'node_modules/@gatehouse/gateway', entry)));
        target.seen.length = 0;
        await runExample(project, file, target.url);
        assert.equal(target.seen.at(-1)?.headers['x-stamped'], 'yes');
      }
    } finally {
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
