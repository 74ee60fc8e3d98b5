// bench/RESULTS.md: the latest run's report with the SVG linked, written by `--write-results`.
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Report } from './types.js';
import { existingSoakBlock } from './soak-section.js';

export function writeResultsFile(path: string, rep: Report, markdown: string, svgRelative: string): void {
  const benchDir = dirname(path);
  // Keep a stable copy of the chart next to RESULTS.md (bench/out/ is not committed).
  const svgSource = join(benchDir, svgRelative);
  if (existsSync(svgSource)) copyFileSync(svgSource, join(benchDir, 'results-chart.svg'));
  const intro = [
    '# Latest benchmark results',
    '',
    `This is the latest run of the harness (\`${rep.command}\`, ${rep.mode} mode${rep.mode === 'quick' ? ': one short repetition per system, so treat single figures as ±20 %' : ''}).`,
    'Re-run with `pnpm bench --full --write-results` for the 3 × 10 s figures. The method is in README.md.',
    '',
    '![ratio to nginx](results-chart.svg)',
    '',
  ];
  // The soak's figure is written by `pnpm bench:soak --write-results`: keep it.
  const soak = existingSoakBlock(path);
  writeFileSync(path, intro.join('\n') + markdown.replace(/^# .*\n/, '') + (soak ? `\n${soak}` : ''));
}
