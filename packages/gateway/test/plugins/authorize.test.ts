// Product authorization (§4.8): the observed edgemicro table, proxy-name and productOnly rules, and
// glob semantics (no regular expressions from configuration text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeProduct } from '../../src/control-plane/types.js';
import { compileAuthorizer, resourcePattern } from '../../src/plugins/auth/authorize.js';
import { compileGlob } from '../../src/plugins/resource-match/glob.js';

const product = (name: string, apiResources: string[], proxies = ['edgemicro_v1']): EdgeProduct => ({
  name,
  apiResources,
  proxies,
  environments: ['test'],
  scopes: [],
});

function allows(resource: string, path: string, exactCase = false): boolean {
  const auth = compileAuthorizer([product('P', [resource])], { productOnly: false, exactCase });
  return auth(['P'], 'edgemicro_v1', '/v1', path) === 'P';
}

// [resource, path, expected] — reference §4.8 [observed] with base_path /v1.
const OBSERVED: Array<[string, string, boolean]> = [
  ['/**', '/v1/a/b', true],
  ['/**', '/v1', false],
  ['/**', '/v1/', false],
  ['/*', '/v1/a', true],
  ['/*', '/v1/a/', true],
  ['/*', '/v1', false],
  ['/*', '/v1/a/b', false],
  ['/a', '/v1/a', true],
  ['/a', '/v1/A', true],
  ['/a', '/v1/a/', true],
  ['/a', '/v1/a/b', false],
  ['/a/**', '/v1/a', false],
  ['/v1/a', '/v1/a', true],
  ['/*/2/**', '/v1/1/2/3', true],
  ['/', '/v1/anything/at/all', true],
];

for (const [resource, path, expected] of OBSERVED)
  test(`§4.8: resource ${resource} ${expected ? 'matches' : 'does not match'} ${path}`, () => {
    assert.equal(allows(resource, path), expected);
  });

test('a path with a query is matched on its path (the caller passes the routed path)', () => {
  // `/v1/a?x=1` reaches the plugin as routedPath `/v1/a`.
  assert.equal(allows('/a', '/v1/a'), true);
});

test('regex metacharacters in resources are literal', () => {
  assert.equal(allows('/v1.0/items', '/v1/v1.0/items'), true);
  assert.equal(allows('/v1.0/items', '/v1/v1x0/items'), false);
  assert.equal(allows('/a+', '/v1/aaa'), false);
  assert.equal(allows('/a+', '/v1/a+'), true);
  assert.equal(allows('/(a|b)', '/v1/b'), false);
  assert.equal(allows('/[ab]', '/v1/a'), false);
  assert.equal(allows('/a?', '/v1/ab'), false);
  assert.equal(allows('/.*', '/v1/secret'), false);
  assert.equal(allows('/x$|.*', '/v1/secret'), false);
});

test('* covers one non-empty segment part; ** one or more segments', () => {
  assert.equal(allows('/a*', '/v1/abc'), true);
  assert.equal(allows('/a*', '/v1/a'), false);
  assert.equal(allows('/a*/x', '/v1/ab/x'), true);
  assert.equal(allows('/a*/x', '/v1/ab/c/x'), false);
  assert.equal(allows('/a/**/z', '/v1/a/b/c/z'), true);
  assert.equal(allows('/a/**/z', '/v1/a/z'), false);
  assert.equal(allows('/*/2/**', '/v1/1/x/2/3'), false);
});

test('exact case is an option', () => {
  assert.equal(allows('/a', '/v1/A', true), false);
  assert.equal(allows('/a', '/v1/a', true), true);
});

test('a backslash in the path matches nothing', () => {
  assert.equal(allows('/**', '/v1/public\\..\\private'), false);
  assert.equal(compileGlob('/a/**')('/a/b\\c'), false);
});

test('the proxy name must be one of the product proxies unless productOnly', () => {
  const products = [product('P', ['/**'], ['edgemicro_other'])];
  assert.equal(
    compileAuthorizer(products, { productOnly: false, exactCase: false })(
      ['P'],
      'edgemicro_v1',
      '/v1',
      '/v1/a',
    ),
    undefined,
  );
  assert.equal(
    compileAuthorizer(products, { productOnly: true, exactCase: false })(
      ['P'],
      'edgemicro_v1',
      '/v1',
      '/v1/a',
    ),
    'P',
  );
});

test('first entitled product wins; unknown products and non-lists entitle nothing', () => {
  const auth = compileAuthorizer([product('A', ['/a']), product('B', ['/**'])], {
    productOnly: false,
    exactCase: false,
  });
  assert.equal(auth(['A', 'B'], 'edgemicro_v1', '/v1', '/v1/x'), 'B');
  assert.equal(auth(['A', 'B'], 'edgemicro_v1', '/v1', '/v1/a'), 'A');
  assert.equal(auth(['nope'], 'edgemicro_v1', '/v1', '/v1/a'), undefined);
  assert.equal(auth('B', 'edgemicro_v1', '/v1', '/v1/a'), undefined);
  assert.equal(auth(undefined, 'edgemicro_v1', '/v1', '/v1/a'), undefined);
});

test('empty apiResources entitle every path of the proxy', () => {
  const auth = compileAuthorizer([product('E', [])], { productOnly: false, exactCase: false });
  assert.equal(auth(['E'], 'edgemicro_v1', '/v1', '/v1'), 'E');
});

test('resource patterns: relative to the base path unless they already name it (whole segment)', () => {
  assert.equal(resourcePattern('/v1', '/a'), '/v1/a');
  assert.equal(resourcePattern('/v1', '/v1/a'), '/v1/a');
  // edgemicro's substring test would take `/x/v1/a` as absolute; a segment test does not.
  assert.equal(resourcePattern('/v1', '/x/v1/a'), '/v1/x/v1/a');
  assert.equal(resourcePattern('/v1', '/v10/a'), '/v1/v10/a');
  assert.equal(resourcePattern('/', '/a'), '/a');
});

test('matching is linear: a path of many segments against several ** answers fast', () => {
  const m = compileGlob('/**/a/**/b/**/c/**/d');
  const path = '/' + Array.from({ length: 3000 }, () => 'a').join('/');
  // A backtracking matcher would not return within the test run's timeout.
  assert.equal(m(path), false);
});
