// The soak's block in RESULTS.md: written by the soak, replaced by the next soak, kept when the
// benchmark results are rewritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minuteMeans, soakBlock, writeSoakBlock, type SoakSummary } from '../src/report/soak-section.js';
import { writeResultsFile } from '../src/report/results-file.js';
import type { Report } from '../src/report/types.js';

const summary = (requests: number): SoakSummary => ({
  minutes: 10,
  connections: 50,
  requests,
  reqPerSecond: Math.round(requests / 600),
  non2xx3xx: 10,
  socketErrors: 'none',
  rssMiB: { afterWarmup: 90.1, end: 91.2, max: 99.9 },
  growthAfterWarmupMiB: 1.1,
});

test('soak block: appended, then replaced, and kept when the results are rewritten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  try {
    const path = join(dir, 'RESULTS.md');
    writeFileSync(path, '# Latest benchmark results\n\nold tables\n');
    writeSoakBlock(path, soakBlock(summary(600_000), 'pnpm bench:soak', 'now', 'out/a.json'));
    writeSoakBlock(path, soakBlock(summary(700_000), 'pnpm bench:soak', 'later', 'out/b.json'));
    let text = readFileSync(path, 'utf8');
    assert.equal(text.match(/## Soak/g)?.length, 1);
    assert.match(text, /\| 700,000 \| 1,167 \|/);
    assert.doesNotMatch(text, /600,000/);
    assert.match(text, /old tables/);
    const rep = { command: 'pnpm bench', mode: 'quick' } as Report;
    writeResultsFile(path, rep, '# Benchmark run\n\nnew tables\n', 'missing.svg');
    text = readFileSync(path, 'utf8');
    assert.match(text, /new tables/);
    assert.doesNotMatch(text, /old tables/);
    assert.match(text, /\| 700,000 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('minute means: one per whole minute, the last partial sample folded into the last minute', () => {
  const samples = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120].map((second) => ({
    second,
    rssMiB: second < 60 ? 50 : second < 120 ? 100 : 130,
  }));
  assert.deepEqual(
    minuteMeans(samples).map((m) => Math.round(m * 100) / 100),
    [50, 104.29],
  );
});
