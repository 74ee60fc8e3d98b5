// Route selection (nginx location order, edgemicro base paths), URI normalisation, rewrite phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../src/routing/router.js';
import { hasTrailingDotSegment, parseTarget } from '../src/routing/uri.js';
import type { RouteMatch } from '../src/config/types.js';
import { request } from '../../../test/helpers/client.js';
import { proxyRoute, startEngine, startUpstream } from '../../../test/helpers/engine.js';
import { rawRequest } from '../../../test/helpers/raw-http.js';

function router(matches: Array<[string, RouteMatch]>): Router<string> {
  const r = new Router<string>();
  for (const [name, m] of matches) assert.equal(r.add(m, name), undefined);
  return r;
}

test('nginx location order: exact, then ^~ longest prefix, then regex in order, then longest prefix', () => {
  const r = router([
    ['root', { prefix: '/' }],
    ['exact-auth', { exact: '/auth' }],
    ['images-stop', { prefix: '/images/', stopRegex: true }],
    ['docs', { prefix: '/docs/' }],
    ['docs-long', { prefix: '/docs/api/' }],
    ['gif', { regex: '\\.(gif|jpg)$', caseInsensitive: true }],
    ['devices', { regex: '^/devices|twins/' }],
    ['api-v', { regex: '^/api/(?<version>v[0-9]+)/(.*)$' }],
  ]);
  const table: Array<[string, string, string?]> = [
    ['/auth', 'exact-auth'],
    ['/auth/x', 'root'],
    ['/images/a.gif', 'images-stop'],
    ['/docs/a.GIF', 'gif'],
    ['/docs/api/x', 'docs-long'],
    ['/docs/x', 'docs'],
    ['/x.jpg', 'gif'],
    ['/devicesXYZ', 'devices'],
    ['/x/twins/abc', 'devices'],
    ['/api/v2/things', 'api-v', 'v2|things'],
    ['/other', 'root'],
  ];
  for (const [uri, want, captures] of table) {
    const sel = r.select(uri);
    assert.equal(sel?.route, want, uri);
    if (captures) assert.equal(`${sel!.captures!.groups!.version}|${sel!.captures![2]}`, captures);
  }
});

test('no match at all gives undefined; duplicate locations are reported', () => {
  const r = router([['a', { prefix: '/a' }]]);
  assert.equal(r.select('/b'), undefined);
  assert.match(r.add({ prefix: '/a' }, 'again') ?? '', /duplicate prefix/);
  assert.match(r.add({ exact: '/x' }, 'x') ?? 'none', /none/);
  assert.match(r.add({ exact: '/x' }, 'x2') ?? '', /duplicate exact/);
});

test('edgemicro base paths: longest wins, only on a segment boundary, / matches everything', () => {
  const r = router([
    ['root', { basePath: '/' }],
    ['v1', { basePath: '/v1' }],
    ['v1-admin', { basePath: '/v1/admin/' }],
  ]);
  const table: Array<[string, string]> = [
    ['/v1', 'v1'],
    ['/v1/', 'v1'],
    ['/v1/x', 'v1'],
    ['/v1x', 'root'],
    ['/V1', 'root'],
    ['/v1/admin', 'v1-admin'],
    ['/v1/admin/users', 'v1-admin'],
    ['/v1/administrator', 'v1'],
    ['/', 'root'],
    ['/anything', 'root'],
  ];
  for (const [uri, want] of table) assert.equal(r.select(uri)?.route, want, uri);
});

test('paths.ignoreCase: exact, prefix and base-path keys match in any ASCII case; regexes become case-insensitive', () => {
  const r = new Router<string>({ ignoreCase: true });
  assert.equal(r.add({ exact: '/Health' }, 'health'), undefined);
  assert.equal(r.add({ basePath: '/v1/Secure' }, 'secure'), undefined);
  assert.equal(r.add({ prefix: '/static/' }, 'static'), undefined);
  assert.equal(r.add({ regex: '^/img/(\\w+)\\.png$' }, 'img'), undefined);
  assert.equal(r.select('/HEALTH')?.route, 'health');
  assert.equal(r.select('/v1/SECURE/x')?.route, 'secure');
  assert.equal(r.select('/V1/secure')?.route, 'secure');
  assert.equal(r.select('/v1/securex'), undefined);
  assert.equal(r.select('/STATIC/a.css')?.route, 'static');
  const img = r.select('/IMG/Logo.PNG');
  assert.equal(img?.route, 'img');
  assert.equal(img?.captures?.[1], 'Logo', 'captures come from the path as sent');
  // Only ASCII folds: a non-ASCII letter never changes the length the upstream path is cut at.
  assert.equal(r.select('/V1/SECURE\u0130')?.route, undefined);
  assert.match(String(r.add({ basePath: '/V1/secure' }, 'dup')), /duplicate base path/);
  const plain = new Router<string>();
  plain.add({ basePath: '/v1/secure' }, 'secure');
  assert.equal(plain.select('/v1/SECURE'), undefined, 'byte-wise by default, like nginx and edgemicro');
});

test('hasTrailingDotSegment finds segments a Windows-style server would shorten', () => {
  for (const p of ['/a.', '/a./b', '/a ', '/a /b', '/a/b...', '/x/y.\t', '/a./'])
    assert.ok(hasTrailingDotSegment(p), p);
  for (const p of ['/', '/a', '/a.b', '/.well-known/x', '/a/b/', '/a b', '/v1.2/x'])
    assert.ok(!hasTrailingDotSegment(p), p);
});

test('10,000 prefix routes select correctly (trie, no linear scan)', () => {
  const r = new Router<number>();
  for (let i = 0; i < 10_000; i++) r.add({ basePath: `/r${String(i).padStart(5, '0')}` }, i);
  for (const i of [0, 1, 4999, 9999]) assert.equal(r.select(`/r${String(i).padStart(5, '0')}/x/y`)?.route, i);
  assert.equal(r.select('/r10000'), undefined);
});

test('parseTarget: $uri is decoded and normalised; the raw path is kept; ambiguous encodings refused', () => {
  const ok = (t: string) => {
    const p = parseTarget(t);
    assert.ok(typeof p === 'object', `${t} → ${String(p)}`);
    return p;
  };
  assert.deepEqual(ok('/a/b?x=1'), {
    rawPath: '/a/b',
    args: 'x=1',
    hasQuery: true,
    uri: '/a/b',
    cleanPath: '/a/b',
  });
  assert.equal(ok('/a/./b/../c').uri, '/a/c');
  assert.equal(ok('//a///b').uri, '/a/b');
  assert.equal(ok('/%76ideo').uri, '/video');
  assert.equal(ok('/devices/../v2/').uri, '/v2/');
  assert.equal(ok('/a%2Fb').uri, '/a/b');
  assert.equal(ok('/a%2Fb').rawPath, '/a%2Fb');
  assert.equal(ok('/../../etc').uri, '/etc');
  assert.equal(ok('/caf%C3%A9').uri, '/café');
  assert.equal(ok('/x/%2e%2e/y').cleanPath, '/y');
  assert.equal(parseTarget('/a/%00'), 'invalid_target');
  assert.equal(parseTarget('/a/%zz'), 'invalid_target');
  assert.equal(parseTarget('x'), 'invalid_target');
  assert.equal(parseTarget('/v1/x%2F..%2F..%2Fadmin'), 'ambiguous_path');
  assert.equal(parseTarget('/v1/x%2F%2E%2E/admin'), 'ambiguous_path');
});

test('base-path targets: upstream path + remainder, query kept, never escaping the base', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [{ routes: [{ match: { basePath: '/v1' }, action: { type: 'proxy', upstream: 'api' } }] }],
    upstreams: { api: { url: `${up.url}/backend` } },
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const cases: Array<[string, string]> = [
    ['/v1/foo?a=1', '/backend/foo?a=1'],
    ['/v1', '/backend'],
    ['/v1/a%2Fb/c', '/backend/a%2Fb/c'],
    ['/v1/x/../y', '/backend/y'],
    ['/v1//z', '/backend/z'],
  ];
  for (const [sent] of cases) assert.equal((await request(gh.url + sent)).status, 200, sent);
  assert.deepEqual(
    up.seen.map((s) => s.url),
    cases.map((c) => c[1]),
  );
  assert.equal((await request(gh.url + '/v1x')).status, 404);
  assert.equal((await request(gh.url + '/v1/../admin')).status, 404);
});

test('rewrite phase: server-level if + rewrite last, location rewrite, set, return, captures in proxy URL', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      {
        rewrite: [
          {
            type: 'if',
            condition: { type: 'truthy', value: '$http_x_ms_version' },
            then: [{ type: 'rewrite', regex: '^(.*)$', replacement: '/storage$1', flag: 'last' }],
          },
          {
            type: 'if',
            condition: { type: 'matches', value: '$uri', regex: '^/v2*.' },
            then: [{ type: 'rewrite', regex: '^(.*)$', replacement: '/registry$1', flag: 'last' }],
          },
        ],
        routes: [
          {
            match: { regex: '^/registry/(.*)' },
            action: { type: 'proxy', upstream: `${up.url}$request_uri`, target: 'url' },
            rewrite: [{ type: 'set', variable: 'tag', value: 'reg:$1' }],
          },
          {
            match: { regex: '^/storage/(.*)' },
            action: { type: 'proxy', upstream: `${up.url}/blob/$1`, target: 'url' },
          },
          {
            match: { prefix: '/old/' },
            rewrite: [{ type: 'rewrite', regex: '^/old/(.*)$', replacement: '/new/$1', flag: 'last' }],
            action: { type: 'return', status: 500 },
          },
          { match: { prefix: '/new/' }, action: { type: 'proxy', upstream: up.url } },
          {
            match: { exact: '/moved' },
            rewrite: [
              { type: 'rewrite', regex: '.*', replacement: 'https://example.com/there', flag: 'permanent' },
            ],
            action: { type: 'return', status: 500 },
          },
          {
            match: { exact: '/teapot' },
            action: { type: 'return', status: 418, body: 'short and stout $arg_x' },
          },
          {
            match: { exact: '/loop' },
            rewrite: [{ type: 'rewrite', regex: '.*', replacement: '/loop', flag: 'last' }],
            action: { type: 'return', status: 200 },
          },
          { match: { exact: '/auth' }, internal: true, action: { type: 'return', status: 204 } },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  assert.equal((await request(gh.url + '/video?x=%2F')).status, 200);
  assert.equal(
    up.seen.at(-1)!.url,
    '/video?x=%2F',
    'the raw request URI goes upstream, not the rewritten one',
  );
  assert.equal(
    (await request(gh.url + '/account/c/b?sig=1', { headers: { 'x-ms-version': '2020' } })).status,
    200,
  );
  assert.equal(up.seen.at(-1)!.url, '/blob/account/c/b', 'captured remainder in a variable proxy URL');
  assert.equal(
    (await request(gh.url + '/account', { headers: { 'x-ms-version': '0' } })).status,
    404,
    '"0" is false',
  );
  assert.equal((await request(gh.url + '/old/thing?q=1')).status, 200);
  assert.equal(up.seen.at(-1)!.url, '/new/thing?q=1', 'a rewritten URI is sent normalised with its args');
  const moved = await request(gh.url + '/moved');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, 'https://example.com/there');
  const tea = await request(gh.url + '/teapot?x=1');
  assert.equal(tea.status, 418);
  assert.equal(tea.text, 'short and stout 1');
  assert.equal((await request(gh.url + '/loop')).status, 500);
  assert.equal(
    (await request(gh.url + '/auth')).status,
    404,
    'internal locations are not reachable from outside',
  );
  assert.match(
    (
      await rawRequest(gh.port, 'GET /V2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
        timeoutMs: 2000,
      })
    ).raw,
    /^HTTP\/1\.1 404/,
  );
});

test('maps are evaluated lazily per request and may use other variables', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    maps: [
      {
        source: '$http_authorization',
        variable: 'auth',
        entries: [{ key: '', value: 'fallback-token' }],
        default: '$http_authorization',
      },
      {
        source: '$uri',
        variable: 'kind',
        regexEntries: [{ regex: '^/img/(.*)', value: 'image:$1' }],
        default: 'other',
      },
    ],
    servers: [
      {
        routes: [
          proxyRoute(up.url, {
            setHeaders: [
              { name: 'authorization', value: '$auth' },
              { name: 'x-kind', value: '$kind' },
            ],
          }),
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await request(gh.url + '/img/a.png');
  await request(gh.url + '/x', { headers: { authorization: 'SharedAccessSignature abc' } });
  assert.equal(up.seen[0]!.headers.authorization, 'fallback-token');
  assert.equal(up.seen[0]!.headers['x-kind'], 'image:a.png');
  assert.equal(up.seen[1]!.headers.authorization, 'SharedAccessSignature abc');
  assert.equal(up.seen[1]!.headers['x-kind'], 'other');
});

test('auth_request: 2xx allows and sets variables from the subrequest response, 401/403 pass through, cached once', async (t) => {
  let tokenCalls = 0;
  const tokens = await startUpstream((req, res) => {
    tokenCalls++;
    if (req.headers['x-deny']) {
      res.writeHead(403);
      return res.end();
    }
    setTimeout(() => {
      res.writeHead(200, { 'x-token': 'SharedAccessSignature sr=module&sig=secret' });
      res.end();
    }, 50);
  });
  const up = await startUpstream();
  const gh = await startEngine({
    maps: [
      {
        source: '$http_authorization',
        variable: 'auth',
        entries: [{ key: '', value: '$token' }],
        default: '$http_authorization',
      },
    ],
    servers: [
      {
        routes: [
          {
            match: { regex: '^/devices' },
            authRequest: { uri: '/auth', set: [{ variable: 'token', value: '$upstream_http_x_token' }] },
            action: {
              type: 'proxy',
              upstream: up.url,
              setHeaders: [{ name: 'authorization', value: '$auth' }],
            },
          },
          {
            match: { exact: '/auth' },
            internal: true,
            action: {
              type: 'proxy',
              upstream: `${tokens.url}/token`,
              target: 'url',
              cache: { key: 'token', validMs: 60_000 },
            },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
    await tokens.close();
  });
  const replies = await Promise.all(Array.from({ length: 20 }, () => request(gh.url + '/devices/d1')));
  assert.ok(replies.every((r) => r.status === 200));
  assert.equal(tokenCalls, 1, 'concurrent cold-cache requests share one token fetch');
  assert.equal(up.seen[0]!.headers.authorization, 'SharedAccessSignature sr=module&sig=secret');
  await request(gh.url + '/devices/d2', { headers: { authorization: 'mine' } });
  assert.equal(up.seen.at(-1)!.headers.authorization, 'mine', 'a caller-supplied Authorization wins');
  assert.equal(tokens.seen[0]!.url, '/token');
  assert.equal(tokens.seen[0]!.body.length, 0);
});

test('auth_request denial is passed through and the upstream is never called', async (t) => {
  const deny = await startUpstream((_req, res) => {
    res.writeHead(401);
    res.end();
  });
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { prefix: '/' },
            authRequest: { uri: '/auth' },
            action: { type: 'proxy', upstream: up.url },
          },
          { match: { exact: '/auth' }, internal: true, action: { type: 'proxy', upstream: deny.url } },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
    await deny.close();
  });
  const r = await request(gh.url + '/x', { method: 'POST', body: 'payload' });
  assert.equal(r.status, 401);
  assert.equal(up.seen.length, 0);
  assert.equal(deny.seen[0]!.method, 'GET');
  assert.equal(deny.seen[0]!.body.length, 0, 'the subrequest carries no body');
});
