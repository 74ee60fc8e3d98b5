import type { SystemResult } from '../measure/types.js';
import { num, PRIMARY_LABEL, ratio } from './format.js';
import type { Report, ScenarioReport } from './types.js';

function header(cols: string[]): string[] {
  return [`| ${cols.join(' | ')} |`, `|${cols.map((c, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
}

function statusText(r: SystemResult): string {
  return `${r.status}${r.reason ? `: ${r.reason.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 200)}` : ''}`;
}

function scenarioTable(s: ScenarioReport): string[] {
  const idle = s.loadKind === 'idle';
  // The last column is the primary ratio; when that is req/s (already shown), show req/CPU-s instead.
  const second = s.primary === 'requestsPerSecond' ? 'reqPerCpuSecond' : s.primary;
  const cols = idle
    ? ['system', 'open conns', 'RSS MiB', 'peak RSS MiB', 'failed', '×nginx RSS']
    : [
        'system',
        'req/s',
        'p50 ms',
        'p99 ms',
        'req/CPU-s',
        'CPU %',
        'MB/s',
        'peak RSS MiB',
        'errors',
        '×nginx req/s',
        `×nginx ${PRIMARY_LABEL[second]}`,
      ];
  const lines = header(cols);
  for (const r of s.results) {
    const m = r.median;
    if (r.status !== 'ok' || !m) {
      lines.push(`| ${r.system} | ${statusText(r)} |${' |'.repeat(cols.length - 2)}`);
      continue;
    }
    const row = idle
      ? [
          r.system,
          num(m.openConnections),
          num(m.rssMiB, 1),
          num(r.peakRssMiB, 1),
          num(m.errors),
          ratio(r.ratio?.rssMiB),
        ]
      : [
          r.system,
          num(m.requestsPerSecond),
          num(m.p50Ms, 2),
          num(m.p99Ms, 2),
          num(m.reqPerCpuSecond),
          num(m.cpuPercent),
          num(m.mbPerSecond, 1),
          num(r.peakRssMiB, 1),
          num(m.errors),
          ratio(r.ratio?.requestsPerSecond),
          ratio(r.ratio?.[second]),
        ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines;
}

export function toMarkdown(rep: Report): string {
  const m = rep.machine;
  const out: string[] = [
    `# Benchmark run ${rep.date}`,
    '',
    `- Mode: **${rep.mode}** — ${rep.timing.warmupSeconds} s warm-up, ${rep.timing.reps} × ${rep.timing.seconds} s, median`,
    `- Command: \`${rep.command}\``,
    `- Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; ` +
      (m.pinned
        ? 'proxy pinned to core 1, load generator and upstream to core 0'
        : 'one core: nothing pinned'),
    `- Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    "## Ratio to nginx (each scenario's primary figure)",
    '',
  ];
  const ran = rep.scenarios.filter((s) => !s.pending);
  out.push(...header(['scenario', 'figure', ...rep.systems]));
  for (const s of ran) {
    const cells = rep.systems.map((sys) => {
      const r = s.results.find((x) => x.system === sys);
      if (!r) return '';
      return r.status === 'ok' ? ratio(r.ratio?.[s.primary]) : r.status;
    });
    out.push(`| ${s.name} | ${PRIMARY_LABEL[s.primary]} | ${cells.join(' | ')} |`);
  }
  for (const s of ran) {
    out.push('', `## ${s.name} — ${s.title}`, '', ...scenarioTable(s));
    if (s.note) out.push('', s.note);
  }
  const pending = rep.scenarios.filter((s) => s.pending);
  if (pending.length > 0) {
    out.push('', '## Pending scenarios', '');
    for (const s of pending) out.push(`- ${s.name} (${s.title}) — pending: ${s.pending}`);
  }
  out.push(
    '',
    'Figures: req/s and latency percentiles from wrk `--latency` (h2load gives no percentiles); ' +
      "req/CPU-s = requests ÷ (utime+stime of the proxy's process tree over the window, from /proc); " +
      'MB/s = response bytes read ÷ window (10^6 B); peak RSS = VmHWM summed over the tree after the run. ' +
      'Rep-to-rep spread is ±10–20 %: compare ratios within one run.',
    '',
  );
  return out.join('\n');
}
