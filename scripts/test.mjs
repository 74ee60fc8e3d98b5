// Runs every *.test.ts under packages/*/test and test/ with node:test.
// Node 20's --test neither expands globs nor finds .ts files in a directory, so we list them.
// Optional arguments filter by substring of the path: `pnpm test tls` runs only TLS tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const roots = ['test', 'bench/test', ...readdirSync('packages').map((p) => join('packages', p, 'test'))];
const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => walk(r, []))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Every engine the tests start also logs at trace level into this directory; after a whole run,
// the secret sweep reads it all (issue 11: no secret in any log line at any level).
const logDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-logs-'));
// A file whose tests are over but that leaves a handle open (a socket an emulator forgot) must not
// hold the run: --test-force-exit ends it once its tests have reported. No single test may take more
// than 10 minutes (the slowest, the packed-tarball install, is bounded at 8).
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-force-exit',
    '--test-timeout=600000',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, GATEHOUSE_TEST_LOG_DIR: logDir } },
);
let status = result.status ?? 1;
const sweep = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', 'test/helpers/log-sweep.ts', logDir],
  { stdio: 'inherit' },
);
if (sweep.status !== 0) status = status || 1;
rmSync(logDir, { recursive: true, force: true });
process.exit(status);
