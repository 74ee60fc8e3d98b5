// Writes queued for the end of the event-loop turn (util/write-batch.ts): every writer registered in
// a turn is flushed once, in order, at the turn's end or at once when the turn is full; one that
// registers during a flush is flushed in the same pass; one that throws does not hold the others back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeAtTurnEnd, type TurnEndWriter } from '../src/util/write-batch.js';

function writers(n: number, log: number[]): TurnEndWriter[] {
  return Array.from({ length: n }, (_, i) => ({ flushWrites: () => void log.push(i) }));
}

const turnEnd = (): Promise<void> => new Promise((r) => setImmediate(r));

test('writers queued in one turn are flushed at its end, in the order they queued', async () => {
  const log: number[] = [];
  for (const w of writers(5, log)) writeAtTurnEnd(w);
  assert.deepEqual(log, [], 'nothing is written during the turn');
  await turnEnd();
  assert.deepEqual(log, [0, 1, 2, 3, 4]);
  await turnEnd();
  assert.deepEqual(log, [0, 1, 2, 3, 4], 'each once');
});

test('a full turn (32 writers) is flushed at once; the writers after it wait for the turn end', async () => {
  const log: number[] = [];
  const all = writers(40, log);
  for (let i = 0; i < 31; i++) writeAtTurnEnd(all[i]!);
  assert.equal(log.length, 0);
  writeAtTurnEnd(all[31]!);
  assert.deepEqual(
    log,
    Array.from({ length: 32 }, (_, i) => i),
    'the 32nd registration flushes the turn',
  );
  for (let i = 32; i < 40; i++) writeAtTurnEnd(all[i]!);
  assert.equal(log.length, 32);
  await turnEnd();
  assert.deepEqual(
    log,
    Array.from({ length: 40 }, (_, i) => i),
  );
});

test('a writer registered while the turn is flushed is flushed in the same pass', async () => {
  const log: string[] = [];
  const late: TurnEndWriter = { flushWrites: () => void log.push('late') };
  writeAtTurnEnd({
    flushWrites: () => {
      log.push('first');
      writeAtTurnEnd(late);
    },
  });
  await turnEnd();
  assert.deepEqual(log, ['first', 'late']);
});

test('a writer that throws does not keep the others from being flushed; the error is raised after', () => {
  const log: number[] = [];
  const failing: TurnEndWriter = {
    flushWrites: () => {
      throw new Error('finish listener failed');
    },
  };
  const all = writers(31, log);
  writeAtTurnEnd(failing);
  for (let i = 0; i < 30; i++) writeAtTurnEnd(all[i]!);
  // The 32nd registration flushes synchronously, so the error surfaces here.
  assert.throws(() => writeAtTurnEnd(all[30]!), /finish listener failed/);
  assert.deepEqual(
    log,
    Array.from({ length: 31 }, (_, i) => i),
  );
});
