// `pnpm bench`: starts the upstream, each system and the load generators itself, measures every
// scenario × system, and writes Markdown, JSON and an SVG chart to bench/out/.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE, type Options } from './cli/args.js';
import { makeCert } from './env/certs.js';
import { machineInfo } from './env/machine.js';
import { startOrigin, startWsOrigin } from './env/origin.js';
import { addRatios } from './measure/ratios.js';
import {
  describeRep,
  finishSystem,
  measureRep,
  prepareSystem,
  type PreparedSystem,
} from './measure/run-one.js';
import type { SystemResult } from './measure/types.js';
import { PEERS, SYSTEM_NAMES } from './peers/index.js';
import type { Peer, RunContext, SystemName } from './peers/types.js';
import { killAllNow, setCoreCount, stopAll } from './proc/registry.js';
import { toMarkdown } from './report/markdown.js';
import { toSvg } from './report/svg.js';
import type { Report, ScenarioReport } from './report/types.js';
import { writeResultsFile } from './report/results-file.js';
import { SCENARIOS } from './scenarios/index.js';

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Set by Ctrl-C/SIGTERM: start nothing new; the temp dir is removed on the way out. */
let aborting = false;
let tempDir: string | undefined;
let keepTemp = false;

function log(line: string): void {
  process.stderr.write(line + '\n');
}

function selectScenarios(opts: Options): typeof SCENARIOS {
  if (!opts.scenarios) return opts.mode === 'quick' ? SCENARIOS.filter((s) => s.quick !== false) : SCENARIOS;
  const unknown = opts.scenarios.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
  return SCENARIOS.filter((s) => opts.scenarios!.includes(s.name));
}

function selectPeers(opts: Options): Peer[] {
  if (!opts.systems) return [...PEERS];
  const unknown = opts.systems.filter((n) => !SYSTEM_NAMES.includes(n as SystemName));
  if (unknown.length)
    throw new Error(`unknown system(s): ${unknown.join(', ')}; known: ${SYSTEM_NAMES.join(', ')}`);
  return PEERS.filter((p) => opts.systems!.includes(p.name));
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  if (opts.list) {
    for (const s of SCENARIOS)
      log(`${s.name.padEnd(22)} ${s.pending ? `[pending: ${s.pending}] ` : ''}${s.title}`);
    return 0;
  }
  const scenarios = selectScenarios(opts);
  const peers = selectPeers(opts);
  const machine = machineInfo(repoRoot);
  setCoreCount(machine.cores);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  tempDir = dir;
  keepTemp = opts.keepTemp;
  const started = Date.now();
  log(
    `bench: ${opts.mode} mode (${opts.timing.warmupSeconds} s warm-up, ${opts.timing.reps} × ${opts.timing.seconds} s), temp dir ${dir}`,
  );
  log(
    machine.pinned
      ? 'bench: proxy on core 1, load generator and upstream on core 0'
      : 'bench: one core, nothing pinned',
  );
  try {
    const origin = await startOrigin(dir);
    const ctx: RunContext = {
      dir,
      repoRoot,
      originPort: origin.port,
      wsOriginPort: (await startWsOrigin()).port,
      certs: { rsa: makeCert(dir, 'rsa'), ecdsa: makeCert(dir, 'ecdsa') },
      mayInstall: opts.mode === 'full',
      log,
    };
    const available: Peer[] = [];
    for (const p of peers) {
      const why = await p.unavailable(ctx);
      if (why) log(`bench: skipping ${p.name}: ${why}`);
      else available.push(p);
    }
    const unavailable = new Map<SystemName, string>();
    for (const p of peers)
      if (!available.includes(p)) unavailable.set(p.name, (await p.unavailable(ctx)) ?? '');
    // Versions may have changed if a peer was installed just now.
    Object.assign(machine, machineInfo(repoRoot));

    const plan = scenarios.filter((s) => !s.pending);
    const total = plan.reduce(
      (n, s) => n + peers.filter((p) => !s.systems || s.systems.includes(p.name)).length,
      0,
    );
    let step = 0;
    const reports: ScenarioReport[] = [];
    for (const s of scenarios) {
      const report: ScenarioReport = {
        name: s.name,
        title: s.title,
        primary: s.primary,
        loadKind: s.load.kind,
        ...(s.pending ? { pending: s.pending } : {}),
        ...(s.note ? { note: s.note } : {}),
        results: [],
      };
      reports.push(report);
      if (s.pending) {
        log(`bench: ${s.name}: pending: ${s.pending}`);
        continue;
      }
      // All the scenario's systems are started and warmed up first; then their windows alternate.
      const prepared: PreparedSystem[] = [];
      const slots: Array<SystemResult | PreparedSystem> = [];
      for (const p of peers) {
        if (s.systems && !s.systems.includes(p.name)) continue;
        if (aborting) throw new Error('interrupted');
        step++;
        const prefix = `[${step}/${total}] ${s.name} · ${p.name}`;
        const skip = unavailable.get(p.name) ?? p.unsupported(s.spec);
        if (skip !== undefined) {
          log(`${prefix}: skipped (${skip})`);
          slots.push({ scenario: s.name, system: p.name, status: 'skipped', reason: skip, reps: [] });
          continue;
        }
        log(`${prefix}: starting and warming up`);
        const r = await prepareSystem(ctx, s, p, opts.timing);
        if ('sys' in r) prepared.push(r);
        else log(`${prefix}: ${r.status}: ${r.reason}`);
        slots.push(r);
      }
      try {
        const n = s.load.kind === 'idle' ? 1 : opts.timing.reps;
        for (let i = 0; i < n; i++)
          for (const p of prepared) {
            if (aborting) throw new Error('interrupted');
            const m = await measureRep(ctx, s, p, opts.timing);
            if (m) log(`    ${s.name} · ${p.peer.name} rep ${i + 1}/${n}: ${describeRep(m)}`);
            else if (p.failed) log(`    ${s.name} · ${p.peer.name}: failed: ${p.failed}`);
          }
      } finally {
        for (const slot of slots) report.results.push('sys' in slot ? await finishSystem(s, slot) : slot);
      }
      addRatios(report.results);
    }

    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const rep: Report = {
      date,
      mode: opts.mode,
      timing: opts.timing,
      command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      systems: peers.map((p) => p.name),
      scenarios: reports,
    };
    const outDir = resolve(opts.outDir ?? join(repoRoot, 'bench/out'));
    mkdirSync(outDir, { recursive: true });
    const stamp = date.replace(/[:]/g, '-');
    const md = toMarkdown(rep);
    writeFileSync(join(outDir, `results-${stamp}.json`), JSON.stringify(rep, null, 2) + '\n');
    writeFileSync(join(outDir, `results-${stamp}.md`), md);
    writeFileSync(join(outDir, `results-${stamp}.svg`), toSvg(rep));
    if (opts.writeResults)
      writeResultsFile(join(repoRoot, 'bench/RESULTS.md'), rep, md, `out/results-${stamp}.svg`);
    process.stdout.write(md);
    log(
      `bench: done in ${Math.round((Date.now() - started) / 1000)} s; wrote ${join(outDir, `results-${stamp}.{json,md,svg}`)}`,
    );
    return 0;
  } finally {
    await stopAll();
    if (!opts.keepTemp) rmSync(dir, { recursive: true, force: true });
    else log(`bench: kept ${dir}`);
  }
}

// Every process we started dies with us, whatever way we leave.
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (aborting) return;
    aborting = true;
    log(`bench: ${sig}: stopping everything`);
    void stopAll().finally(() => {
      if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    log(`bench: error: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
