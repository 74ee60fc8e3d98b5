// Authentication-bypass vectors against a base-path configuration (the gateway's shape): `/v1/secure`
// answers 401 without credentials, `/v1` proxies to an upstream whose own base is `/backend`.
// No variant of the protected path may reach the upstream's protected resource, and no upstream path
// may leave `/backend`. The upstream is modelled as a lenient server (Tomcat/IIS-like): it decodes
// once, drops `;params`, strips trailing dots, merges slashes, resolves dot segments and ignores case.
// The server runs with `paths: { ignoreCase, refuseTrailingDots }` (what the gateway adapter will
// set); a second server without them shows the variants those two options exist for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest } from '../helpers/raw-http.js';
import { startEchoUpstream, startEngine, type EchoUpstream, type RunningEngine } from '../helpers/engine.js';
import type { GatehouseConfig } from '../../packages/core/src/config/types.js';

let upstream: EchoUpstream;
let engine: RunningEngine;
let plainEngine: RunningEngine;

function config(hardened = true): GatehouseConfig {
  return {
    headers: { xForwardedFor: 'append', xForwardedHost: 'replace', xForwardedProto: 'replace' },
    upstreams: { backend: { url: `${upstream.url}/backend` } },
    servers: [
      {
        listen: [{ port: 0 }],
        serverNames: ['api.test'],
        ...(hardened ? { paths: { ignoreCase: true, refuseTrailingDots: true } } : {}),
        routes: [
          {
            match: { basePath: '/v1/secure' },
            action: { type: 'return', status: 401, body: '{"error":"unauthorized"}' },
          },
          { match: { basePath: '/v1' }, action: { type: 'proxy', upstream: 'backend' } },
        ],
      },
    ],
  };
}

before(async () => {
  upstream = await startEchoUpstream();
  engine = await startEngine(config());
  plainEngine = await startEngine(config(false));
});
after(async () => {
  await engine.close();
  await plainEngine.close();
  await upstream.close();
});

/** How a lenient upstream would interpret a path it receives. */
export function lenientPath(raw: string): string {
  let p = raw.split('?')[0]!;
  try {
    p = decodeURIComponent(p);
  } catch {
    // keep as is
  }
  const out: string[] = [];
  for (let seg of p.split('/')) {
    seg = seg.split(';')[0]!;
    if (seg !== '.' && seg !== '..') seg = seg.replace(/[. ]+$/, '');
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

const PROTECTED = /^\/backend\/secure(\/|$)/i;

interface BypassVector {
  target: string;
  headers?: string;
  /** Which `paths` option stops it (byte-wise matching, nginx's and edgemicro's, lets it through). */
  needs?: 'refuseTrailingDots' | 'ignoreCase';
}

const TRAILING_DOT = 'refuseTrailingDots';
const CASE = 'ignoreCase';

const VECTORS: BypassVector[] = [
  { target: '/v1/secure' },
  { target: '/v1/secure/' },
  { target: '/v1/secure/data' },
  { target: '/v1/secure?x=1' },
  { target: '/v1/%73ecure/data' },
  { target: '/v1/%73%65%63%75%72%65' },
  { target: '/v1/%2573ecure/data' },
  { target: '/v1/secure%2Fdata' },
  { target: '/v1%2Fsecure' },
  { target: '/v1%2fsecure/data' },
  { target: '/v1/x/../secure' },
  { target: '/v1/x/%2e%2e/secure' },
  { target: '/v1/x/%2E%2E/secure/data' },
  { target: '/v1/./secure' },
  { target: '/v1/%2e/secure' },
  { target: '/v1//secure' },
  { target: '//v1/secure' },
  { target: '/v1/secure//data' },
  { target: '/v1/x/..%2fsecure' },
  { target: '/v1/x/..%5csecure' },
  { target: '/v1/secure;jsessionid=1' },
  { target: '/v1/secure;/data' },
  { target: '/v1/x/..;/secure' },
  { target: '/v1/secure.', needs: TRAILING_DOT },
  { target: '/v1/secure./data', needs: TRAILING_DOT },
  { target: '/v1/secure%20', needs: TRAILING_DOT },
  { target: '/v1/SECURE', needs: CASE },
  { target: '/v1/Secure/data', needs: CASE },
  { target: '/V1/secure' },
  { target: '/v1/secure%00' },
  { target: '/v1/secure%' },
  { target: '/v1/secure\\data' },
  { target: 'http://api.test/v1/secure' },
  { target: 'http://api.test/v1/x/../secure' },
  { target: '/v1/public', headers: 'X-Original-URL: /v1/secure\r\nX-Rewrite-URL: /v1/secure\r\n' },
  {
    target: '/v1/secure',
    headers: 'X-Forwarded-Host: localhost\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n',
  },
  { target: '/v1/../../backend/secure' },
  { target: '/v1/%2e%2e/%2e%2e/secure' },
  { target: '/v1/..%2f..%2fsecure' },
];

/** Send one vector; return the status and the paths the upstream received because of it. */
async function send(
  v: BypassVector,
  host = 'api.test',
  port = engine.port,
): Promise<{ status: number | undefined; paths: string[] }> {
  upstream.requests.length = 0;
  const r = await rawRequest(
    port,
    `GET ${v.target} HTTP/1.1\r\nHost: ${host}\r\n${v.headers ?? ''}Connection: close\r\n\r\n`,
  );
  return { status: r.status, paths: upstream.requests.map((q) => q.url) };
}

function check(v: BypassVector, res: { status: number | undefined; paths: string[] }): void {
  for (const p of res.paths) {
    const seen = lenientPath(p);
    assert.ok(
      !PROTECTED.test(seen),
      `${v.target} reached the protected resource as ${p} (a lenient upstream reads ${seen}); client got ${res.status}`,
    );
    assert.ok(
      /^\/backend(\/|$)/.test(p) && /^\/backend(\/|$)/.test(seen),
      `${v.target} escaped the base path: upstream got ${p} (${seen})`,
    );
  }
  if (res.paths.length === 0)
    assert.ok(
      res.status !== undefined && res.status >= 400,
      `${v.target}: no answer or a success without the upstream`,
    );
}

describe('auth bypass vectors on a base-path route', { timeout: 30_000 }, () => {
  for (const v of VECTORS) {
    const label = `${v.target}${
      v.headers
        ? ` + ${v.headers
            .trim()
            .split('\r\n')
            .map((h) => h.split(':')[0])
            .join(', ')}`
        : ''
    }`;
    test(label, async () => check(v, await send(v)));
  }

  test('without the paths options, byte-wise matching lets exactly the case and trailing-dot variants through', async () => {
    for (const v of VECTORS) {
      const res = await send(v, 'api.test', plainEngine.port);
      const reached = res.paths.some((p) => PROTECTED.test(lenientPath(p)));
      assert.equal(
        reached,
        v.needs !== undefined,
        `${v.target}: upstream got ${res.paths.join(', ') || 'nothing'}`,
      );
    }
  });

  test('hardened paths still serve ordinary names with dots and mixed case', async () => {
    for (const [target, expected] of [
      ['/v1/files/report.v2.pdf', '/backend/files/report.v2.pdf'],
      ['/V1/Public/Item', '/backend/Public/Item'],
      ['/v1/.well-known/x', '/backend/.well-known/x'],
    ] as const) {
      const res = await send({ target });
      assert.equal(res.status, 200, target);
      assert.deepEqual(res.paths, [expected]);
    }
    const dot = await send({ target: '/v1/public./x' });
    assert.equal(dot.status, 400);
    assert.deepEqual(dot.paths, []);
  });

  test('Host spoofing does not change the route: every Host value still gets 401 on /v1/secure', async () => {
    for (const host of ['localhost', '127.0.0.1', 'internal.admin', 'api.test:80', 'API.TEST', 'api.test.']) {
      const res = await send({ target: '/v1/secure/data' }, host);
      assert.equal(res.status, 401, `Host ${host}`);
      assert.deepEqual(res.paths, []);
    }
  });

  test('X-Forwarded-* sent by the client are replaced, X-Forwarded-For ends with the real peer', async () => {
    upstream.requests.length = 0;
    await rawRequest(
      engine.port,
      'GET /v1/public HTTP/1.1\r\nHost: api.test\r\nX-Forwarded-For: 10.9.9.9\r\nX-Forwarded-Host: evil.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n',
    );
    const h = upstream.requests[0]!.headers;
    assert.equal(h['x-forwarded-host'], 'api.test');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.match(String(h['x-forwarded-for']), /, 127\.0\.0\.1$/);
  });

  test('a public path still works (the table above is not vacuous)', async () => {
    const res = await send({ target: '/v1/public/item?q=1' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.paths, ['/backend/public/item?q=1']);
  });
});

test('lenientPath models the upstream it claims to', () => {
  assert.equal(lenientPath('/backend/x/..;/secure'), '/backend/secure');
  assert.equal(lenientPath('/backend/secure./data'), '/backend/secure/data');
  assert.equal(lenientPath('/backend/%73ecure'), '/backend/secure');
  assert.equal(lenientPath('/backend/%2573ecure'), '/backend/%73ecure');
  assert.equal(lenientPath('/backend//a/./b/../c'), '/backend/a/c');
});
