// Config validation, reload under traffic, SIGTERM drain, metrics and the admin listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, validateConfig } from '../src/config/validate.js';
import { compileConfig } from '../src/config/compile.js';
import { readConfigFile } from '../src/config/load.js';
import { CLI, spawnServe } from '../../../test/helpers/cli.js';
import { request } from '../../../test/helpers/client.js';
import { proxyRoute, startEngine, startUpstream } from '../../../test/helpers/engine.js';

test('validation names the key path and what was expected, for every problem at once', () => {
  const bad = {
    servers: [
      {
        listen: [{ port: 70000 }],
        routes: [
          { match: { prefix: '/' }, action: { type: 'proxy', upstream: 'nope' } },
          { match: { regex: '([' }, action: { type: 'return', status: 99 } },
          { match: {}, action: { type: 'jump' } },
        ],
        colour: 'red',
      },
    ],
    limits: { maxHeaderSize: 'big' },
  };
  let err: ConfigError | undefined;
  try {
    validateConfig(bad);
  } catch (e) {
    err = e as ConfigError;
  }
  assert.ok(err instanceof ConfigError);
  const paths = err.problems.map((p) => p.path);
  for (const p of [
    'servers[0].colour',
    'servers[0].listen[0].port',
    'servers[0].routes[0].action.upstream',
    'servers[0].routes[1].match.regex',
    'servers[0].routes[1].action.status',
    'servers[0].routes[2].match',
    'servers[0].routes[2].action.type',
    'limits.maxHeaderSize',
  ])
    assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
  assert.match(err.message, /servers\[0\]\.routes\[0\]\.action\.upstream: unknown upstream "nope"/);
});

test('compile errors: unknown variables and auth subrequests to nowhere are named', () => {
  const cfg = validateConfig({
    servers: [
      {
        listen: [{ port: 0 }],
        routes: [
          {
            match: { prefix: '/' },
            authRequest: { uri: '/auth' },
            action: { type: 'proxy', upstream: 'http://x$nope' },
          },
        ],
      },
    ],
  });
  assert.throws(
    () => compileConfig(cfg),
    (e: ConfigError) => {
      assert.match(e.message, /servers\[0\]\.routes\[0\]: unknown variable "\$nope"/);
      return true;
    },
  );
});

test('a JSON syntax error names file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{\n  "servers": [\n    { "listen": [ ] ,, }\n  ]\n}\n');
  assert.throws(
    () => readConfigFile(file),
    (e: ConfigError) => {
      assert.match(e.message, /bad\.json:3:\d+/);
      return true;
    },
  );
});

test('`gatehouse check` exits 0 on a valid config and 1 naming the problem otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-'));
  const good = join(dir, 'good.json');
  const bad = join(dir, 'bad.json');
  writeFileSync(
    good,
    JSON.stringify({ servers: [{ listen: [{ port: 0 }], routes: [proxyRoute('http://127.0.0.1:9')] }] }),
  );
  writeFileSync(
    bad,
    JSON.stringify({ servers: [{ listen: [{ port: 0 }], routes: [{ match: { prefix: '/' } }] }] }),
  );
  const run = (file: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const p = spawn(process.execPath, [
        '--conditions=source',
        '--import',
        'tsx',
        CLI,
        'check',
        '--config',
        file,
      ]);
      let out = '';
      p.stdout.on('data', (c) => (out += c));
      p.stderr.on('data', (c) => (out += c));
      p.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
  const ok = await run(good);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /configuration is valid/);
  const ko = await run(bad);
  assert.equal(ko.code, 1);
  assert.match(ko.out, /servers\[0\]\.routes\[0\]\.action: expected an action object/);
});

test('reload during traffic loses no request; an invalid config is refused and the old one keeps serving', async (t) => {
  const a = await startUpstream((_q, res) => res.end('A'));
  const b = await startUpstream((_q, res) => res.end('B'));
  const cfg = (url: string) => ({
    servers: [{ listen: [{ address: '127.0.0.1', port: 0 }], routes: [proxyRoute(url)] }],
  });
  const gh = await startEngine(cfg(a.url));
  t.after(async () => {
    await gh.close();
    await a.close();
    await b.close();
  });
  // Reloads must keep the same listener: pin its port.
  const pinned = {
    servers: [{ listen: [{ address: '127.0.0.1', port: gh.port }], routes: [proxyRoute(b.url)] }],
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  let ok = 0;
  let failed = 0;
  const seen = new Set<string>();
  // Workers run until the reloads are done plus a margin (bounded by a hard deadline).
  let stop = false;
  const hardDeadline = Date.now() + 20_000;
  const worker = async () => {
    while (!stop && Date.now() < hardDeadline) {
      try {
        const r = await request(gh.url + '/', { agent });
        if (r.status === 200) {
          ok++;
          seen.add(r.text);
        } else failed++;
      } catch {
        failed++;
      }
    }
  };
  const workers = Array.from({ length: 50 }, worker);
  await new Promise((r) => setTimeout(r, 300));
  await gh.gh.reload({ ...pinned, servers: [{ ...pinned.servers[0]!, routes: [proxyRoute(a.url)] }] });
  await new Promise((r) => setTimeout(r, 300));
  await gh.gh.reload(pinned);
  await assert.rejects(
    gh.gh.reload({
      servers: [
        {
          listen: [{ port: gh.port }],
          routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'missing' } }],
        },
      ],
    }),
    ConfigError,
  );
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  assert.equal(failed, 0);
  assert.ok(ok > 100, `only ${ok} requests`);
  assert.deepEqual([...seen].sort(), ['A', 'B']);
  assert.equal((await request(gh.url + '/')).text, 'B', 'the last valid config serves');
  const metrics = await gh.gh.registry.metrics();
  assert.match(metrics, /gatehouse_config_reloads_total\{result="failure"\} 1/);
  assert.match(metrics, /gatehouse_config_reloads_total\{result="success"\} 2/);
});

test('SIGTERM stops accepting, lets in-flight requests finish, then exits 0', async (t) => {
  const up = await startUpstream((_q, res) => setTimeout(() => res.end('finished'), 600));
  t.after(() => up.close());
  const dir = mkdtempSync(join(tmpdir(), 'gh-'));
  const file = join(dir, 'gh.json');
  writeFileSync(
    file,
    JSON.stringify({
      servers: [{ listen: [{ address: '127.0.0.1', port: 0 }], routes: [proxyRoute(up.url)] }],
      log: { level: 'info' },
    }),
  );
  const { proc: p, port } = await spawnServe(file);
  t.after(() => p.kill('SIGKILL'));
  const inflight = request(`http://127.0.0.1:${port}/`);
  await new Promise((r) => setTimeout(r, 150));
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  p.kill('SIGTERM');
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.text, 'finished');
  assert.equal(await exited, 0);
});

test('metrics and admin: /metrics, /healthz, /readyz on a loopback admin listener', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [{ routes: [{ ...proxyRoute(up.url), name: 'main' }] }],
    admin: { port: 0 },
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await request(gh.url + '/x');
  await request(gh.url + '/y');
  const admin = gh.gh.adminAddress()!;
  assert.equal(admin.address, '127.0.0.1');
  const base = `http://127.0.0.1:${admin.port}`;
  const m = await request(base + '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /gatehouse_requests_total\{server="server0",route="main",status_class="2xx"\} 2/);
  assert.match(
    m.text,
    /gatehouse_request_duration_seconds_bucket\{le="\+Inf",server="server0",route="main",status_class="2xx"\} 2/,
  );
  assert.match(m.text, /gatehouse_open_connections/);
  assert.equal((await request(base + '/healthz')).status, 200);
  assert.equal(JSON.parse((await request(base + '/readyz')).text).status, 'ready');
});

test('the access log file is 0600, survives a reload and never carries credentials from the query', async (t) => {
  const up = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'gh-access-'));
  const file = join(dir, 'logs', 'access.log');
  const cfg = { servers: [{ routes: [proxyRoute(up.url)] }], log: { level: 'warn' as const, access: file } };
  const gh = await startEngine(cfg);
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await request(gh.url + '/a?apikey=SECRET-KEY-1&x=1');
  await gh.gh.reload({
    ...cfg,
    servers: [{ listen: [{ address: '127.0.0.1', port: gh.port }], routes: [proxyRoute(up.url)] }],
  });
  await request(gh.url + '/b?sig=SECRET-SIG-2');
  await gh.close();
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { uri: string; status: number; log: string });
  assert.deepEqual(
    lines.map((l) => `${l.log} ${l.status} ${l.uri}`),
    ['access 200 /a?apikey=***&x=1', 'access 200 /b?sig=***'],
  );
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('`gatehouse serve` reloads when its config file changes and keeps serving when the new one is invalid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-watch-'));
  const file = join(dir, 'gh.json');
  const config = (body: string, port = 0) =>
    JSON.stringify({
      servers: [
        {
          listen: [{ address: '127.0.0.1', port }],
          routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body } }],
        },
      ],
      log: { level: 'info' },
    });
  writeFileSync(file, config('one'));
  const { proc, port } = await spawnServe(file);
  t.after(() => proc.kill('SIGKILL'));
  const body = async () => (await request(`http://127.0.0.1:${port}/`)).text;
  const eventually = async (want: string) => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if ((await body()) === want) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  assert.equal(await body(), 'one');
  // An editor-style atomic replace: write a temp file, rename it over the config.
  writeFileSync(`${file}.tmp`, config('two', port));
  renameSync(`${file}.tmp`, file);
  assert.ok(await eventually('two'), 'new config served');
  writeFileSync(file, '{ "servers": [ broken');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await body(), 'two', 'an invalid file keeps the running config');
  writeFileSync(file, config('three', port));
  assert.ok(await eventually('three'));
});
