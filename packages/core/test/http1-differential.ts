// What the readers' differential tests share: node's llhttp binding (the oracle), a message mutated
// by up to three edits (a piece inserted or replacing one character), and the property's run
// settings (FC_RUNS, FC_SEED, FC_PATH to replay).
import { createRequire } from 'node:module';
import fc from 'fast-check';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): Error | undefined;
  close(): void;
  [k: number]: unknown;
}

/** node's internal `_http_common`: llhttp in strict mode, as node:http used it. */
export const llhttp = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
  methods: string[];
};

export type Edit = [position: number, piece: string, replace: boolean];

/** Pieces every mutation may insert: the bytes HTTP/1 framing turns on, and some that never belong. */
export const MUTATION_PIECES: readonly string[] = [
  '\r',
  '\n',
  ' ',
  '\t',
  ':',
  ';',
  ',',
  '0',
  'a',
  'Z',
  '\x00',
  '\x7f',
  '\xff',
  '-',
  'chunked',
  '\r\n',
];

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
