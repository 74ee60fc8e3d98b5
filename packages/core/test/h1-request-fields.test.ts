// One request field read from the field list (headerValue) must be what node's headers object holds
// for it (headersObject): the engine's own path reads fields without building that object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { propertyRuns } from './http1-differential.js';
import { headersObject, headerValue } from '../src/server/h1/request.js';

const NAMES = [
  'host',
  'Host',
  'HOST',
  'connection',
  'Connection',
  'content-length',
  'Via',
  'via',
  'cookie',
  'Cookie',
  'set-cookie',
  'x-forwarded-proto',
  'X-Forwarded-Proto',
  'forwarded',
  'hosts',
  'hos',
];
const QUERIED = [
  'host',
  'connection',
  'content-length',
  'via',
  'cookie',
  'x-forwarded-proto',
  'forwarded',
  'transfer-encoding',
  'hosts',
];

function expected(raw: string[], name: string): string | undefined {
  const v = headersObject(raw)[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

test('headerValue: the value headersObject gives a field, for any list (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.string({ maxLength: 6 })), { maxLength: 8 }),
      (pairs) => {
        const raw = pairs.flat();
        for (const name of QUERIED)
          assert.equal(headerValue(raw, name), expected(raw, name), `${name} in ${JSON.stringify(raw)}`);
      },
    ),
    propertyRuns(),
  );
});

test('headerValue: singletons keep their first value, lists are joined, cookies with "; "', () => {
  const raw = [
    'Host',
    'a',
    'host',
    'b',
    'Connection',
    'keep-alive',
    'connection',
    'x-trace',
    'Cookie',
    'a=1',
    'cookie',
    'b=2',
  ];
  assert.equal(headerValue(raw, 'host'), 'a');
  assert.equal(headerValue(raw, 'connection'), 'keep-alive, x-trace');
  assert.equal(headerValue(raw, 'cookie'), 'a=1; b=2');
  assert.equal(headerValue(raw, 'via'), undefined);
  // A name of the same length that differs is not taken for the one asked for.
  assert.equal(headerValue(['hast', 'x'], 'host'), undefined);
});
