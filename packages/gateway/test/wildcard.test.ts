// The one `*` matcher behind edgemicro's simple wildcard (excludeUrls, proxyPattern: `*` is any run)
// and the segments of product resource globs (`*` is one or more characters), checked against the
// regular expressions those rules describe, over random patterns and texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileWildcard, matchPieces } from '../src/config/wildcard.js';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// A small alphabet makes matches and near misses common.
const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '-'), maxLength: 8 });
const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-'), maxLength: 10 });

test('compileWildcard: `*` is any run of characters, anchored, as edgemicro’s `.*`', () => {
  fc.assert(
    fc.property(pattern, text, (p, t) => {
      const reference = new RegExp(`^${p.split('*').map(escape).join('.*')}$`, 's');
      assert.equal(
        compileWildcard(p)(t),
        reference.test(t),
        `pattern ${JSON.stringify(p)}, text ${JSON.stringify(t)}`,
      );
    }),
    { numRuns: 5000 },
  );
});

test('matchPieces with minRun 1: each `*` (or run of them) covers at least one character, as a glob segment', () => {
  fc.assert(
    fc.property(pattern, text, (p, t) => {
      const pieces = p.split(/\*+/);
      const reference = new RegExp(`^${pieces.map(escape).join('.+')}$`, 's');
      assert.equal(
        matchPieces(pieces, t, 1),
        reference.test(t),
        `pattern ${JSON.stringify(p)}, text ${JSON.stringify(t)}`,
      );
    }),
    { numRuns: 5000 },
  );
});

test('examples', () => {
  assert.equal(compileWildcard('/a/*')('/a/'), true);
  assert.equal(compileWildcard('/a/*')('/b/'), false);
  assert.equal(compileWildcard('*x*x*')('xx'), true);
  assert.equal(compileWildcard('ab*b')('ab'), false);
  assert.equal(matchPieces(['', ''], '', 1), false);
  assert.equal(matchPieces(['', ''], 'q', 1), true);
  assert.equal(matchPieces(['a', 'b', 'c'], 'abc', 1), false);
  assert.equal(matchPieces(['a', 'b', 'c'], 'a-b-c', 1), true);
});
