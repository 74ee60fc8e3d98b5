// The library example in packages/core/README.md runs as written (imports pointed at the sources).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('the README library example runs and prints what it says', async (t) => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = mkdtempSync(join(tmpdir(), 'gh-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'example.mts');
  writeFileSync(
    file,
    code.replace(
      "from '@gatehouse/core'",
      `from ${JSON.stringify(join(import.meta.dirname, '../src/index.js'))}`,
    ),
  );
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', file], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  // The engine's own info log lines go to stdout too; the example prints one plain line.
  assert.ok(out.split('\n').includes('200 /api/items?x=1'), out);
});
