import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addRatios } from '../src/measure/ratios.js';
import type { SystemResult, RepMetrics } from '../src/measure/types.js';
import { toMarkdown } from '../src/report/markdown.js';
import { toSvg } from '../src/report/svg.js';
import type { Report } from '../src/report/types.js';
import { SCENARIOS } from '../src/scenarios/index.js';
import { gatehouseConfig } from '../src/peers/gatehouse.js';
import { nginxProxyConf } from '../src/peers/nginx.js';
import type { RunContext, SystemName } from '../src/peers/types.js';

function metrics(rps: number, cpu: number): RepMetrics {
  return {
    requestsPerSecond: rps,
    reqPerCpuSecond: rps / cpu,
    cpuPercent: cpu * 100,
    mbPerSecond: 1,
    errors: 0,
    rssMiB: 10,
  };
}

function results(): SystemResult[] {
  return [
    {
      scenario: 'small',
      system: 'gatehouse',
      status: 'ok',
      reps: [],
      median: metrics(10000, 1),
      peakRssMiB: 50,
    },
    {
      scenario: 'small',
      system: 'nginx',
      status: 'ok',
      reps: [],
      median: metrics(20000, 0.5),
      peakRssMiB: 8,
    },
    { scenario: 'small', system: 'haproxy', status: 'failed', reason: 'did not | start', reps: [] },
  ];
}

test('ratios are each figure over nginx’s in the same scenario', () => {
  const r = results();
  addRatios(r);
  assert.equal(r[0]!.ratio?.requestsPerSecond, 0.5);
  assert.equal(r[0]!.ratio?.reqPerCpuSecond, 10000 / 40000);
  assert.equal(r[1]!.ratio?.reqPerCpuSecond, 1);
  assert.equal(r[2]!.ratio, undefined);
});

test('no nginx result: no ratios', () => {
  const r = results().filter((x) => x.system !== 'nginx');
  addRatios(r);
  assert.equal(r[0]!.ratio, undefined);
});

function report(): Report {
  const r = results();
  addRatios(r);
  return {
    date: '2026-01-01T00:00:00Z',
    mode: 'quick',
    timing: { warmupSeconds: 1, seconds: 3, reps: 1 },
    command: 'pnpm bench',
    machine: { cores: 2, cpuModel: 'x', memoryGiB: 1, os: 'y', pinned: true, versions: { node: 'v20' } },
    systems: ['gatehouse', 'nginx', 'haproxy'],
    scenarios: [
      {
        name: 'small',
        title: 'small',
        primary: 'reqPerCpuSecond',
        loadKind: 'wrk',
        note: 'Both layers summed.',
        results: r,
      },
      { name: 'later', title: 'later', primary: 'rssMiB', loadKind: 'wrk', pending: 'needs X', results: [] },
    ],
  };
}

test('markdown: summary ratios, per-scenario rows, escaped failure reason, pending list', () => {
  const md = toMarkdown(report());
  assert.match(md, /\| small \| req per proxy CPU-s \| 0\.25× \| 1\.00× \| failed \|/);
  assert.match(md, /\| gatehouse \| 10,000 \|/);
  assert.match(md, /failed: did not \\\| start/);
  assert.match(md, /- later \(later\) — pending: needs X/);
  // The scenario's note follows its table.
  assert.match(md, /\| haproxy \| failed[^\n]*\n\nBoth layers summed\.\n/);
});

test('svg: one bar per ok result, well-formed', () => {
  const svg = toSvg(report());
  assert.ok(svg.startsWith('<svg') && svg.trim().endsWith('</svg>'));
  assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 2);
  assert.match(svg, />0\.25×</);
  assert.doesNotMatch(svg, /later/);
});

test('scenario table: unique names, every non-pending load bounded and well-formed', () => {
  const names = SCENARIOS.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  for (const s of SCENARIOS) {
    assert.ok(s.load.path.startsWith('/'), s.name);
    if (s.load.kind === 'wrk') assert.ok(s.load.connections > 0 && s.load.connections <= 1000, s.name);
  }
  const pluginScenarios = SCENARIOS.filter((s) => s.name.startsWith('plugins-'));
  assert.equal(pluginScenarios.length, 2);
  for (const s of pluginScenarios) {
    assert.equal(s.pending, undefined, `${s.name} runs`);
    assert.ok(s.gatehouseConfig, `${s.name} carries a config hook`);
    // The hook names plugins that exist in the plugin directory it configures.
    const cfg = s.gatehouseConfig!(gatehouseConfig(ctx, 8000, {}), ctx);
    const names = cfg.servers.flatMap((srv) => srv.routes.flatMap((r) => r.plugins ?? []));
    assert.equal(names.length, 3);
    for (const n of names) assert.ok(existsSync(join(cfg.plugins!.dir, n, 'index.js')), `${s.name}: ${n}`);
  }
  // The IoT chain runs, set up by its own starters for exactly the systems it names.
  const iot = SCENARIOS.find((s) => s.name === 'iot-v2-two-layers')!;
  assert.equal(iot.pending, undefined);
  assert.deepEqual(Object.keys(iot.start ?? {}).sort(), [...(iot.systems ?? [])].sort());
  assert.equal(iot.smokeBody, 'hello world\n');
  assert.ok(iot.note);
  // The gateway scenarios run the gateway as `gatehouse`; the peers run as usual (bare microgateway-core).
  for (const name of ['gateway-bare', 'gateway-oauth-quota']) {
    const g = SCENARIOS.find((s) => s.name === name)!;
    assert.equal(g.pending, undefined, name);
    assert.deepEqual(Object.keys(g.start ?? {}), ['gatehouse'], name);
    assert.ok(g.systems?.includes('microgateway-core') && g.systems.includes('nginx'), name);
  }
  // A scenario may only name starters for systems it runs.
  for (const s of SCENARIOS)
    for (const name of Object.keys(s.start ?? {}))
      assert.ok(!s.systems || s.systems.includes(name as SystemName), `${s.name}: starter for ${name}`);
});

const ctx: RunContext = {
  dir: '/tmp/x',
  repoRoot: '/repo',
  originPort: 9000,
  wsOriginPort: 9001,
  certs: {
    rsa: { kind: 'rsa', certFile: '/c/rsa.crt', keyFile: '/c/rsa.key', bundleFile: '/c/rsa.pem' },
    ecdsa: { kind: 'ecdsa', certFile: '/c/ec.crt', keyFile: '/c/ec.key', bundleFile: '/c/ec.pem' },
  },
  mayInstall: false,
  log: () => {},
};

test('equivalent configs: 10,000 routes in ours and nginx’s, TLS without resumption in nginx', () => {
  const g = gatehouseConfig(ctx, 8000, { routes: 10000 });
  assert.equal(g.servers[0]!.routes.length, 10000);
  assert.deepEqual(g.servers[0]!.routes[9999]!.match, { prefix: '/r09999' });
  const n = nginxProxyConf(ctx, '/tmp/x/n', 8000, { routes: 10000 });
  assert.equal((n.match(/location \/r\d{5} /g) ?? []).length, 10000);
  const t = nginxProxyConf(ctx, '/tmp/x/n', 8000, { tls: 'rsa', http2: true });
  assert.match(t, /listen 127\.0\.0\.1:8000 ssl http2/);
  assert.match(t, /ssl_session_tickets off;/);
  assert.match(t, /ssl_session_cache off;/);
  assert.match(t, /keepalive 64;/);
  const gt = gatehouseConfig(ctx, 8000, { tls: 'ecdsa', http2: true });
  assert.deepEqual(gt.servers[0]!.listen[0], { address: '127.0.0.1', port: 8000, tls: true, http2: true });
  assert.equal(gt.servers[0]!.tls?.certificate?.certFile, '/c/ec.crt');
});
