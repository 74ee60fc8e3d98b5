// The edgemicro CLI as users run it (a real process, its control socket and pid file in the working
// directory): check on good and bad files, bad input as one line, the management commands, and a
// start/status/reload/stop round trip that cleans up a stale socket first.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  cli,
  runCli,
  startUpstream,
  tempDir,
  writeConfig,
  type Upstream,
  edgeConfigYaml,
  writePlugin,
} from './helpers.js';
import { closedPort } from '../../../test/helpers/engine.js';

const tmp = tempDir();
let up: Upstream;
const CONFIG = [
  'edgemicro:',
  '  port: 8000',
  '  address: 127.0.0.1',
  '  logging: { level: info, to_console: true }',
  '  plugins: { sequence: [] }',
  '',
].join('\n');

before(async () => {
  up = await startUpstream('hello');
  writeConfig(tmp.dir, 'demo', 'test', CONFIG);
  writeFileSync(
    join(tmp.dir, 'standalone.yaml'),
    `proxies:\n  - name: edgemicro_hello\n    base_path: /hello\n    url: ${up.url}\n`,
  );
});
after(async () => {
  await up.close();
  tmp.cleanup();
});

const noStack = (out: string): void => assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
/** `edgemicro start` of org demo, env `env`, on the standalone file, with `extra` options. */
const startArgs = (env: string, ...extra: string[]): string[] => [
  'start',
  '-o',
  'demo',
  '-e',
  env,
  '-c',
  tmp.dir,
  '--standalone',
  'standalone.yaml',
  ...extra,
];

test('check: a good file prints the resolved proxies; a bad one names file, key and line', async () => {
  const good = await cli(
    ['check', '-o', 'demo', '-e', 'test', '-c', tmp.dir, '--standalone', 'standalone.yaml'],
    tmp.dir,
  );
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /edgemicro_hello \(rev 1\) \/hello -> http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(good.out, /configuration is valid/);
  writeConfig(
    tmp.dir,
    'demo',
    'bad',
    'edgemicro:\n  port: 8000\n  logging:\n    to_console: true\n  colour: blue\n',
  );
  const bad = await cli(
    ['check', '-o', 'demo', '-e', 'bad', '-c', tmp.dir, '--standalone', 'standalone.yaml'],
    tmp.dir,
  );
  assert.equal(bad.code, 1);
  assert.match(bad.out, /demo-bad-config\.yaml:5: config\.edgemicro\.colour: unknown key/);
  noStack(bad.out);
  writeConfig(tmp.dir, 'demo', 'yaml', 'edgemicro:\n  port: [1\n');
  const yaml = await cli(
    ['check', '-o', 'demo', '-e', 'yaml', '-c', tmp.dir, '--standalone', 'standalone.yaml'],
    tmp.dir,
  );
  assert.equal(yaml.code, 1);
  assert.match(yaml.out, /demo-yaml-config\.yaml:\d+: yaml: /);
  noStack(yaml.out);
});

test('bad input is one line and a non-zero exit', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['start', '-e', 'test', '-c', tmp.dir], /missing org/],
    [['start', '-o', 'demo', '-e', 'test', '-c', tmp.dir], /missing key or secret/],
    [
      ['start', '-o', 'nope', '-e', 'test', '-c', tmp.dir, '--standalone', 'standalone.yaml'],
      /nope-test-config\.yaml: file: file not found/,
    ],
    [['start', '-o', 'demo', '-e', 'test', '--bogus'], /unknown option --bogus/],
    [['token', 'decode', '-f', join(tmp.dir, 'standalone.yaml')], /not a JWT/],
    [['configure', '-o', 'x', '-e', 'y'], /needs the Apigee management API/],
    [['genkeys'], /needs the Apigee management API/],
    [['status'], /^edgemicro is not running$/m],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args, tmp.dir);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
    assert.match(r.out, re, args.join(' '));
    noStack(r.out);
  }
  const v = await cli(['--version'], tmp.dir);
  assert.equal(v.code, 0);
  assert.match(v.out, /current edgemicro version is/);
});

test('start, status, reload, stop; a stale socket is cleaned up; pid file written and removed', async () => {
  const port = await closedPort();
  writeFileSync(join(tmp.dir, 'edgemicro.sock'), ''); // left by a dead process: nothing accepts on it
  const gw = runCli(startArgs('test', '-r', String(port), '-p', '2'), tmp.dir);
  try {
    await gw.waitFor(/edgemicro started: 2 worker/);
    assert.equal(readFileSync(join(tmp.dir, 'edgemicro.pid'), 'utf8').trim(), String(gw.child.pid));
    const res = await fetch(`http://127.0.0.1:${port}/hello/x`);
    assert.equal(res.status, 200);
    // headers.x-response-time is on by default (edgemicro's default.yaml).
    assert.match(res.headers.get('x-response-time') ?? '', /^\d+$/);
    const status = await cli(['status'], tmp.dir);
    assert.equal(status.code, 0);
    assert.match(status.out, /edgemicro is running with 2 workers/);
    const pidsBefore = [...status.out.matchAll(/worker pid (\d+)/g)].map((m) => m[1]);
    assert.equal(pidsBefore.length, 2);
    const second = await cli(startArgs('test', '-r', String(port)), tmp.dir);
    assert.equal(second.code, 1);
    assert.match(second.out, /already running/);
    const reload = await cli(['reload'], tmp.dir);
    assert.equal(reload.code, 0, reload.out);
    assert.match(reload.out, /reloaded 2 workers/);
    const after = await cli(['status'], tmp.dir);
    const pidsAfter = [...after.out.matchAll(/worker pid (\d+)/g)].map((m) => m[1]);
    assert.equal(pidsAfter.length, 2);
    assert.ok(
      pidsAfter.every((p) => !pidsBefore.includes(p)),
      'every worker replaced',
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/hello/y`)).status, 200);
    const stop = await cli(['stop'], tmp.dir);
    assert.equal(stop.code, 0);
    assert.equal(await gw.exited, 0);
    assert.ok(!existsSync(join(tmp.dir, 'edgemicro.sock')));
    assert.ok(!existsSync(join(tmp.dir, 'edgemicro.pid')));
  } finally {
    gw.child.kill('SIGKILL');
  }
});

test('start -u: the config is downloaded from a URL into the config dir; an unusable URL stops the start', async () => {
  const { default: http } = await import('node:http');
  let served = 0;
  const yaml = CONFIG.replace('  port: 8000', '  port: 8001');
  const server = http.createServer((req, res) => {
    if (req.url !== '/configs/demo.yaml') return void res.writeHead(404).end('no');
    served++;
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(yaml);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const configDir = join(tmp.dir, 'from-url');
  const args = (url: string, port?: number): string[] => [
    'start',
    ...['-o', 'demo', '-e', 'url', '-c', configDir, '--standalone', 'standalone.yaml', '-u', url],
    ...(port ? ['-r', String(port)] : []),
  ];
  try {
    const port = await closedPort();
    const gw = runCli(args(`${base}/configs/demo.yaml`, port), tmp.dir);
    try {
      await gw.waitFor(/edgemicro started/);
      assert.equal(served, 1);
      assert.equal(readFileSync(join(configDir, 'demo-url-config.yaml'), 'utf8'), yaml);
      assert.equal((await fetch(`http://127.0.0.1:${port}/hello/u`)).status, 200);
      assert.equal((await cli(['stop'], tmp.dir)).code, 0);
      assert.equal(await gw.exited, 0);
    } finally {
      gw.child.kill('SIGKILL');
    }
    const closed = await closedPort();
    const failures: Array<[string, RegExp]> = [
      [
        `http://127.0.0.1:${closed}/configs/demo.yaml`,
        /cannot download the config from http:\/\/127\.0\.0\.1:\d+\/configs\/demo\.yaml: /,
      ],
      [
        `${base}/configs/missing.yaml?token=url-secret-9f`,
        /cannot download the config from .*\/configs\/missing\.yaml: HTTP 404/,
      ],
      ['ftp://127.0.0.1/demo.yaml', /config URL protocol not supported: "ftp:"/],
    ];
    for (const [url, re] of failures) {
      const r = await cli(args(url), tmp.dir);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, re);
      assert.doesNotMatch(r.out, /url-secret-9f/);
      noStack(r.out);
    }
  } finally {
    server.close();
  }
});

test('logging.dir: master and workers append JSON lines to one file; no key, secret or API key in it', async () => {
  const { startEdgeEmulator, bootstrapProxy } = await import('../../../test/emulators/edge/edge-emulator.js');
  const canaries = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../test/helpers/canary-secrets.json'), 'utf8'),
  ) as Record<string, string>;
  const key = 'edge-key-7c1d9e3a5b';
  const secret = 'edge-secret-2f4a6c8e0d';
  const edge = await startEdgeEmulator({
    key,
    secret,
    proxies: [bootstrapProxy('edgemicro_hello', '/hello', up.url)],
  });
  const logDir = join(tmp.dir, 'logs');
  writeConfig(
    tmp.dir,
    'demo',
    'logs',
    edgeConfigYaml(
      edge.urls,
      [
        'edgemicro:',
        '  port: 8000',
        '  address: 127.0.0.1',
        `  logging: { level: trace, dir: "${logDir}", disableStrictLogFile: true }`,
      ],
      ['bootstrap', 'jwt_public_key'],
    ),
  );
  const port = await closedPort();
  const gw = runCli(
    ['start', '-o', 'demo', '-e', 'logs', '-c', tmp.dir, '-r', String(port), '-p', '2'],
    tmp.dir,
    {
      EDGEMICRO_KEY: key,
      EDGEMICRO_SECRET: secret,
    },
  );
  try {
    const line = await gw.waitFor(/logging to \S+/);
    const file = line.slice('logging to '.length);
    await gw.waitFor(/edgemicro started/);
    const res = await fetch(`http://127.0.0.1:${port}/hello/x?apikey=${canaries.queryApiKey}`, {
      headers: { 'x-api-key': canaries.headerApiKey!, authorization: `Bearer ${canaries.bearer}` },
    });
    assert.equal(res.status, 200);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const text = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o755, 'disableStrictLogFile: 0755, as edgemicro');
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg?: string; role?: string });
    assert.ok(records.some((r) => r.msg === 'worker ready' && r.role === 'primary'));
    assert.ok(
      records.some((r) => r.msg === 'listening'),
      'worker lines are in the file too',
    );
    for (const s of [key, secret, canaries.headerApiKey!, canaries.queryApiKey!, canaries.bearer!])
      assert.ok(!text.includes(s) && !gw.output().includes(s), 'no secret in any log line');
  } finally {
    gw.child.kill('SIGKILL');
    await edge.close();
  }
});

test('logging.rotate_interval: a new numbered file each interval, shared by 2 workers, no line lost', async () => {
  const { readdirSync } = await import('node:fs');
  const plugins = join(tmp.dir, 'log-plugins');
  writePlugin(
    plugins,
    'seen',
    "module.exports.init = (config, logger) => ({ onrequest(req, res, next) { logger.info({ seq: Number(req.headers['x-seq']) }, 'seen'); next(); } });\n",
  );
  const logDir = join(tmp.dir, 'rotating-logs');
  // 0.0005 hours = 1.8 s: edgemicro's unit, through the real config key.
  writeConfig(
    tmp.dir,
    'demo',
    'rotate',
    [
      'edgemicro:',
      '  port: 8000',
      '  address: 127.0.0.1',
      `  logging: { level: info, dir: "${logDir}", rotate_interval: 0.0005 }`,
      `  plugins: { dir: "${plugins}", sequence: [seen] }`,
      '',
    ].join('\n'),
  );
  const port = await closedPort();
  const gw = runCli(startArgs('rotate', '-r', String(port), '-p', '2'), tmp.dir);
  try {
    await gw.waitFor(/edgemicro started/);
    let sent = 0;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const batch = Array.from({ length: 4 }, () =>
        fetch(`http://127.0.0.1:${port}/hello/r`, { headers: { 'x-seq': String(sent++) } }).then((r) => {
          assert.equal(r.status, 200);
          return r.arrayBuffer();
        }),
      );
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 20));
    }
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const files = readdirSync(logDir);
    const periods = files.map((f) => {
      const m = /^edgemicro-.+-(\d+)-(\d+)-api\.log$/.exec(f);
      assert.ok(m, `file name ${f}`);
      assert.equal(m[1], String(gw.child.pid), 'named for the master');
      return Number(m[2]);
    });
    assert.ok(Math.max(...periods) >= 2, `rotated: ${files.join(', ')}`);
    assert.ok(periods.includes(1));
    for (const f of files) assert.equal(statSync(join(logDir, f)).mode & 0o777, 0o600);
    const seen = new Map<number, number>();
    const pids = new Set<number>();
    for (const f of files)
      for (const line of readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as { msg?: string; seq?: number; pid?: number };
        if (r.msg !== 'seen') continue;
        seen.set(r.seq!, (seen.get(r.seq!) ?? 0) + 1);
        pids.add(r.pid!);
      }
    assert.equal(seen.size, sent, 'every request logged');
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'each once',
    );
    assert.ok(pids.size >= 1);
  } finally {
    gw.child.kill('SIGKILL');
  }
});

test('verify checks the control-plane URLs; token get, decode and verify against the Edge emulator', async () => {
  const { startEdgeEmulator } = await import('../../../test/emulators/edge/edge-emulator.js');
  const edge = await startEdgeEmulator({
    key: 'vk',
    secret: 'vs',
    apiKeys: {
      'client-1': { application_name: 'app', developer_email: 'd@example.com', api_product_list: ['P'] },
    },
  });
  try {
    writeConfig(
      tmp.dir,
      'demo',
      'verify',
      edgeConfigYaml(edge.urls, ['edgemicro:', '  port: 8000', '  logging: { to_console: true }']),
    );
    const args = ['-o', 'demo', '-e', 'verify', '-c', tmp.dir];
    const ok = await cli(['verify', ...args], tmp.dir, { EDGEMICRO_KEY: 'vk', EDGEMICRO_SECRET: 'vs' });
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /bootstrap: .* -> 200 ok/);
    const bad = await cli(['verify', ...args, '-k', 'vk', '-s', 'nope'], tmp.dir);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /bootstrap: .* -> 401/);
    assert.doesNotMatch(bad.out, /nope/);
    const got = await cli(['token', 'get', ...args, '-i', 'client-1', '-s', 'anything'], tmp.dir);
    assert.equal(got.code, 0, got.out);
    const token = (JSON.parse(got.out) as { token: string }).token;
    const file = join(tmp.dir, 'token.txt');
    writeFileSync(file, token);
    const decoded = await cli(['token', 'decode', '-f', file], tmp.dir);
    assert.equal(decoded.code, 0);
    assert.match(decoded.out, /"application_name": "app"/);
    const verified = await cli(['token', 'verify', '-f', file, ...args], tmp.dir);
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /token is valid/);
    const [h, p] = token.split('.');
    writeFileSync(file, `${h}.${p}.${Buffer.from('forged').toString('base64url')}`);
    const forged = await cli(['token', 'verify', '-f', file, ...args], tmp.dir);
    assert.equal(forged.code, 1);
    assert.match(forged.out, /signature is invalid/);
  } finally {
    await edge.close();
  }
});
