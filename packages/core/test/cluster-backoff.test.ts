// The cluster's pure parts: crash-restart back-off and the `--workers` value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { RestartBackoff } from '../src/cluster/restart-backoff.js';
import { parseWorkerCount } from '../src/cluster/worker-count.js';

test('restart back-off doubles from 100 ms to 5 s and resets after a worker lived 10 s', () => {
  const b = new RestartBackoff();
  const quick = Array.from({ length: 8 }, () => b.delayAfterCrash(50));
  assert.deepEqual(quick, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal(b.delayAfterCrash(10_000), 100, 'a worker that lived 10 s resets it');
  assert.equal(b.delayAfterCrash(9_999), 200);
});

test('--workers: a positive integer or auto; anything else is an error naming the value', () => {
  const table: Array<[string | undefined, number | RegExp]> = [
    ['1', 1],
    ['2', 2],
    ['16', 16],
    ['auto', availableParallelism()],
    ['0', /got "0"/],
    ['-1', /got "-1"/],
    ['1.5', /got "1.5"/],
    ['two', /got "two"/],
    ['', /got ""/],
    [undefined, /positive integer or "auto"/],
  ];
  for (const [input, want] of table) {
    const got = parseWorkerCount(input);
    if (typeof want === 'number') assert.equal(got, want, String(input));
    else assert.ok(got instanceof Error && want.test(got.message), `${input}: ${String(got)}`);
  }
});
