// The CLI's heap profile: how it is chosen, that V8 honours it when set at start-up, and that a bad
// choice stops the command with a message naming it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fullCollection, heapProfileFrom, oldGenerationCheck } from '../src/cli/heap-profile.js';
import { CLI } from '../../../test/helpers/cli.js';

const run = promisify(execFile);
const MODULE = join(import.meta.dirname, '../src/cli/heap-profile.ts');

test('the profile comes from --heap, then GATEHOUSE_HEAP, and is balanced by default', () => {
  assert.equal(heapProfileFrom(['serve', '-c', 'x'], {}), 'balanced');
  assert.equal(heapProfileFrom(['serve', '--heap', 'node'], {}), 'node');
  assert.equal(heapProfileFrom(['serve', '--heap=node'], {}), 'node');
  assert.equal(heapProfileFrom(['serve'], { GATEHOUSE_HEAP: 'node' }), 'node');
  assert.equal(heapProfileFrom(['serve', '--heap', 'compact'], { GATEHOUSE_HEAP: 'node' }), 'compact');
  const bad = heapProfileFrom(['serve', '--heap', 'huge'], {});
  assert.ok(bad instanceof Error);
  assert.match(bad.message, /--heap .*balanced, compact, node.*"huge"/);
});

/** The young generation's size when the module has loaded and after a second of allocation. */
async function newSpaceGrowth(profile: string): Promise<{ before: number; after: number }> {
  const script = `
    await import(${JSON.stringify(MODULE)});
    const v8 = await import('node:v8');
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const before = size();
    let keep = [];
    const end = Date.now() + 1000;
    // Turns of the event loop between batches, as a server's: the balanced cap is checked on a timer.
    while (Date.now() < end) {
      for (let i = 0; i < 1000; i++) keep.push({ i, s: 'x' + i });
      if (keep.length > 50000) keep = [];
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(JSON.stringify({ before, after: size() }));
    process.exit(0);`;
  const { stdout } = await run(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, GATEHOUSE_HEAP: profile }, timeout: 20_000 },
  );
  return JSON.parse(stdout) as { before: number; after: number };
}

test('V8 honours the profiles set at start-up: compact stops the young generation, balanced caps it', async () => {
  // (Loaded through tsx here, the young generation has already grown a little before the module
  // runs; the built CLI imports it first.)
  const MiB = 1024 * 1024;
  const [compact, balanced, node] = await Promise.all(['compact', 'balanced', 'node'].map(newSpaceGrowth));
  const show = JSON.stringify({ compact, balanced, node });
  assert.equal(compact!.after, compact!.before, show);
  // The cap is checked every 200 ms: one doubling past 8 MiB can happen in between.
  assert.ok(balanced!.after <= 16 * MiB, show);
  assert.ok(node!.after > balanced!.after, show);
});

test('an unknown profile stops the command with exit code 2 and names the value', async () => {
  const err = await run(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--heap', 'huge', '--config', 'none.json'],
    { timeout: 20_000 },
  ).then(
    () => assert.fail('the command succeeded'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 2);
  assert.match(err.stderr, /--heap \(or GATEHOUSE_HEAP\) must be one of balanced, compact, node, got "huge"/);
});

test('the old-generation guard collects once garbage passes 2 MiB (or a quarter) over the last live size', () => {
  const MiB = 1024 * 1024;
  let size = 8 * MiB;
  let collections = 0;
  const check = oldGenerationCheck(
    () => size,
    () => {
      collections++;
      size = 9 * MiB; // what survived
    },
  );
  size = 10 * MiB; // +2 MiB: not past the step
  check();
  assert.equal(collections, 0);
  size = 10.5 * MiB; // +2.5 MiB
  check();
  assert.equal(collections, 1);
  // The mark is now 9 MiB: V8 collecting on its own lowers it.
  size = 7 * MiB;
  check();
  size = 8.9 * MiB;
  check();
  assert.equal(collections, 1, 'only 1.9 MiB over the 7 MiB V8 left');
  size = 9.1 * MiB;
  check();
  assert.equal(collections, 2);
  // A large live set: a quarter of it is the step.
  size = 20 * MiB;
  const big = oldGenerationCheck(
    () => size,
    () => collections++,
  );
  size = 24.9 * MiB;
  big();
  assert.equal(collections, 2);
  size = 25.1 * MiB;
  big();
  assert.equal(collections, 3);
  // Past 32 MiB V8's 30 % factor is the smaller step: the guard leaves it alone.
  size = 40 * MiB;
  const large = oldGenerationCheck(
    () => size,
    () => collections++,
  );
  size = 60 * MiB;
  large();
  assert.equal(collections, 3);
});

test("the guard's full collection is V8's, and gc stays hidden from the application's contexts", () => {
  const gc = fullCollection();
  assert.equal(typeof gc, 'function');
  const keep: unknown[] = [];
  for (let i = 0; i < 1000; i++) keep.push({ i });
  keep.length = 0;
  const before = v8.getHeapStatistics().used_heap_size;
  gc!();
  assert.ok(v8.getHeapStatistics().used_heap_size <= before);
  assert.equal(runInNewContext('typeof gc'), 'undefined');
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});
