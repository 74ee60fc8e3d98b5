// The soak's figure in bench/RESULTS.md: a marked block that `pnpm bench:soak --write-results`
// replaces and that rewriting the benchmark results keeps.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- soak:start -->';
const END = '<!-- soak:end -->';

export interface SoakSummary {
  minutes: number;
  connections: number;
  requests: number;
  reqPerSecond: number;
  non2xx3xx: number;
  socketErrors: string;
  /** Means of the second and of the last minute (RSS is a saw-tooth), and the highest sample. */
  rssMiB: { afterWarmup: number; end: number; max: number };
  growthAfterWarmupMiB: number;
  minuteMeansMiB?: number[];
}

/** The Markdown block for one soak run. */
export function soakBlock(s: SoakSummary, command: string, when: string, samplesFile: string): string {
  return [
    START,
    '## Soak',
    '',
    `\`${command}\` (${when}): ${s.minutes} min of mixed traffic over ${s.connections} keep-alive connections — small GETs, 1 MiB downloads, 64 KiB POSTs, a 404 route and a base-path route.`,
    '',
    '| requests | req/s | non-2xx/3xx (the 404 route) | socket errors | RSS, 2nd minute (mean) MiB | RSS, last minute (mean) MiB | max RSS MiB | growth after warm-up MiB |',
    '|---:|---:|---:|---|---:|---:|---:|---:|',
    `| ${s.requests.toLocaleString('en-US')} | ${s.reqPerSecond.toLocaleString('en-US')} | ${s.non2xx3xx.toLocaleString('en-US')} | ${s.socketErrors} | ${s.rssMiB.afterWarmup} | ${s.rssMiB.end} | ${s.rssMiB.max} | ${s.growthAfterWarmupMiB} |`,
    '',
    ...(s.minuteMeansMiB ? [`Mean RSS per minute (MiB): ${s.minuteMeansMiB.join(', ')}.`, ''] : []),
    `RSS is sampled every 10 s; samples in \`${samplesFile}\` (not committed).`,
    END,
    '',
  ].join('\n');
}

/** The soak block currently in `path`, or '' when there is none. */
export function existingSoakBlock(path: string): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a !== -1 && b > a ? `${text.slice(a, b + END.length)}\n` : '';
}

/** Put `block` into `path`, replacing an earlier soak block or appending it. */
export function writeSoakBlock(path: string, block: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Latest benchmark results\n';
  const old = existingSoakBlock(path);
  writeFileSync(path, old ? text.replace(old, block) : `${text.trimEnd()}\n\n${block}`);
}

/** Mean RSS of each whole minute of samples (minute 0 is the warm-up). */
export function minuteMeans(samples: Array<{ second: number; rssMiB: number }>): number[] {
  const sums: Array<{ sum: number; n: number }> = [];
  for (const s of samples) {
    const m = Math.min(Math.floor(s.second / 60), Math.max(0, Math.floor((samples.at(-1)!.second - 1) / 60)));
    (sums[m] ??= { sum: 0, n: 0 }).sum += s.rssMiB;
    sums[m]!.n++;
  }
  return sums.filter(Boolean).map((x) => x.sum / x.n);
}
