// What the readers' differential properties share: a message mutated by up to three edits (a piece
// inserted or replacing one character), and the run settings (FC_RUNS, FC_SEED, FC_PATH to replay).
import fc from 'fast-check';

export type Edit = [position: number, piece: string, replace: boolean];

/** One to three edits drawn from `alphabet`. */
export function edits(alphabet: readonly string[]): fc.Arbitrary<Edit[]> {
  return fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.boolean()), {
    minLength: 1,
    maxLength: 3,
  });
}

export function applyEdits(seed: string, list: readonly Edit[]): string {
  let s = seed;
  for (const [pos, piece, replace] of list) {
    const at = pos % (s.length + 1);
    s = s.slice(0, at) + piece + s.slice(replace ? at + 1 : at);
  }
  return s;
}

export function propertyRuns(): fc.Parameters<unknown> {
  return {
    numRuns: Number(process.env.FC_RUNS ?? 3000),
    seed: Number(process.env.FC_SEED ?? 20261202),
    includeErrorInReport: true,
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH, verbose: 2 } : {}),
  };
}
