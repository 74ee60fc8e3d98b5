// "No way around them": one row per bypass technique that works against edgemicro (raw-URL matching,
// regex resources, unchecked aud/alg, path-override headers), each aimed at /shop/private/secret
// through a route guarded by product resources (token for shop-public = /public/**) and through
// one guarded by excludeUrls (/shop/open/* skips auth). No hostile row may reach the backend; the
// honest controls must.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeProduct } from '../../src/control-plane/types.js';
import { claimsFor, makeKeys, signJwt } from './support/keys.js';
import { edgeData, pluginContext } from './support/fixture.js';
import { request, startGateway, startUpstream, type Gateway, type Upstream } from './support/gateway.js';

const keys = makeKeys();
let upstream: Upstream;
let gw: Gateway;

const meta: EdgeProduct = {
  name: 'shop-meta',
  // As regular expressions these would admit /shop/private/... (alternation, wildcard class).
  apiResources: ['/public|private/**', '/[a-z]rivate/**', '/.*'],
  proxies: ['edgemicro_shop'],
  environments: ['test'],
  scopes: [],
};

before(async () => {
  upstream = await startUpstream();
  const ctx = pluginContext(keys, undefined, { oauth: { excludeUrls: ['/shop/open/*'] } });
  gw = await startGateway(
    upstream.port,
    [{ name: 'edgemicro_shop', basePath: '/shop', plugins: ['oauth'] }],
    { ...ctx, edge: { ...edgeData(keys), products: [...edgeData(keys).products, meta] } },
  );
});
after(async () => {
  await gw.close();
  await upstream.close();
});

const token = (products: string[], extra: Record<string, unknown> = {}, opts = {}): string =>
  `Bearer ${signJwt(keys, claimsFor(products, extra), opts)}`;
const PUBLIC = (): Record<string, string> => ({ authorization: token(['shop-public']) });
const NONE = (): Record<string, string> => ({});

interface Row {
  readonly technique: string;
  readonly path: string;
  readonly headers: () => Record<string, string>;
}

const PRODUCT_GUARD: Row[] = [
  { technique: 'dot-dot', path: '/shop/public/../private/secret', headers: PUBLIC },
  { technique: '%2e%2e', path: '/shop/public/%2e%2e/private/secret', headers: PUBLIC },
  { technique: '%2E%2E upper', path: '/shop/public/%2E%2E/private/secret', headers: PUBLIC },
  { technique: '.%2e mixed', path: '/shop/public/.%2e/private/secret', headers: PUBLIC },
  { technique: '%2f around ..', path: '/shop/public%2f..%2fprivate/secret', headers: PUBLIC },
  { technique: '..%2f', path: '/shop/public/..%2fprivate/secret', headers: PUBLIC },
  { technique: '%252e double encoding', path: '/shop/public/%252e%252e/private/secret', headers: PUBLIC },
  { technique: 'backslash', path: '/shop/public/..\\private/secret', headers: PUBLIC },
  { technique: '%5c backslash', path: '/shop/public/..%5cprivate/secret', headers: PUBLIC },
  { technique: '..;/ (Tomcat)', path: '/shop/public/..;/private/secret', headers: PUBLIC },
  { technique: ';param before ..', path: '/shop/public;x/../private/secret', headers: PUBLIC },
  { technique: ';param on the resource', path: '/shop/private;jsessionid=1/secret', headers: PUBLIC },
  { technique: 'doubled slashes', path: '/shop//public/..//private/secret', headers: PUBLIC },
  { technique: 'leading //', path: '//shop/private/secret', headers: PUBLIC },
  { technique: 'case of the resource', path: '/shop/PRIVATE/secret', headers: PUBLIC },
  { technique: 'case of the base path', path: '/SHOP/private/secret', headers: PUBLIC },
  { technique: 'trailing dot segment', path: '/shop/private./secret', headers: PUBLIC },
  {
    technique: 'regex resources (alternation, class, .*)',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-meta']) }),
  },
  {
    technique: 'alg none',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-all'], {}, { alg: 'none' }) }),
  },
  {
    technique: 'HS256 keyed with the public key',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-all'], {}, { alg: 'HS256' }) }),
  },
  {
    technique: 'wrong aud',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-all'], { aud: 'someone-else' }) }),
  },
  {
    technique: 'no aud',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-all'], { aud: undefined }) }),
  },
  {
    technique: 'product list as a string',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token([], { api_product_list: 'shop-all' }) }),
  },
  {
    technique: 'expired token',
    path: '/shop/private/secret',
    headers: () => ({ authorization: token(['shop-all'], { exp: 1 }) }),
  },
  {
    technique: 'forged x-authorization-claims',
    path: '/shop/private/secret',
    headers: () => ({
      'x-authorization-claims': Buffer.from('{"api_product_list":["shop-all"]}').toString('base64'),
    }),
  },
  { technique: 'NUL byte', path: '/shop/public/%00/../../private/secret', headers: PUBLIC },
  { technique: 'overlong UTF-8 dot', path: '/shop/public/%c0%ae%c0%ae/private/secret', headers: PUBLIC },
];

const EXCLUDE_GUARD: Row[] = [
  { technique: 'dot-dot out of the excluded path', path: '/shop/open/../private/secret', headers: NONE },
  { technique: 'two dot-dots', path: '/shop/open/x/../../private/secret', headers: NONE },
  { technique: '%2e%2e out of the excluded path', path: '/shop/open/%2e%2e/private/secret', headers: NONE },
  { technique: '%2f inside the wildcard segment', path: '/shop/open/x%2f..%2f..%2fprivate', headers: NONE },
  { technique: '..;/', path: '/shop/open/..;/private/secret', headers: NONE },
  { technique: ';param then ..', path: '/shop/open/x;/../../private/secret', headers: NONE },
  {
    technique: 'backslash inside the wildcard segment',
    path: '/shop/open/x\\..\\..\\private',
    headers: NONE,
  },
  { technique: '%5c inside the wildcard segment', path: '/shop/open/x%5c..%5c..%5cprivate', headers: NONE },
  { technique: 'case', path: '/shop/OPEN/x', headers: NONE },
  { technique: 'doubled slash then ..', path: '/shop/open//../private/secret', headers: NONE },
];

for (const [guard, rows] of [
  ['product resources', PRODUCT_GUARD],
  ['excludeUrls', EXCLUDE_GUARD],
] as const)
  for (const row of rows)
    test(`${guard}: ${row.technique} (${row.path}) does not reach the backend`, async () => {
      const before = upstream.seen.length;
      const r = await request(gw.port, row.path, row.headers());
      assert.ok([400, 401, 403, 404].includes(r.status), `status ${r.status}: ${r.body}`);
      assert.equal(upstream.seen.length, before, 'the backend saw the request');
    });

for (const header of ['x-original-url', 'x-rewrite-url'])
  for (const [path, headers] of [
    ['/shop/public/a', PUBLIC],
    ['/shop/open/x', NONE],
  ] as const)
    test(`${header} on an admitted request (${path}) never reaches the backend`, async () => {
      const r = await request(gw.port, path, { ...headers(), [header]: '/shop/private/secret' });
      assert.equal(r.status, 200);
      assert.equal(upstream.seen.at(-1)!.headers[header], undefined);
    });

const HONEST: Array<[string, () => Record<string, string>]> = [
  ['/shop/public/a', PUBLIC],
  ['/shop/public/a/./b', PUBLIC],
  ['/shop/public/%61', PUBLIC],
  ['/shop/public/a?next=/shop/private/secret', PUBLIC],
  ['/shop/private/secret', () => ({ authorization: token(['shop-all']) })],
  ['/shop/open/x', NONE],
  ['/shop/open/x?q=../../private', NONE],
];
for (const [path, headers] of HONEST)
  test(`honest control: ${path} → 200`, async () => {
    const before = upstream.seen.length;
    const r = await request(gw.port, path, headers());
    assert.equal(r.status, 200, r.body);
    assert.equal(upstream.seen.length, before + 1);
  });
