// Egress proxy: NO_PROXY rules, a CONNECT tunnel for https targets (with the target's TLS settings inside
// the tunnel), absolute-form requests for http targets (or a tunnel when asked), against a tiny proxy on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { buildUpstreamConnectOptions } from '../src/tls/index.js';
import {
  bypassesProxy,
  createEgressDispatcher,
  parseNoProxy,
  resolveEgressProxy,
} from '../src/upstream/egress-proxy.js';
import { startConnectProxy, type ConnectProxy } from '../../../test/helpers/connect-proxy.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());

test('NO_PROXY rules: exact, suffix, .suffix, *.suffix, host:port, *, IPs, CIDR, case-insensitive', () => {
  const rules = parseNoProxy([
    'Example.com, .corp.local *.svc:8443',
    'api.test:8080',
    '10.0.0.1',
    '192.168.0.0/16',
    '[::1]',
  ]);
  const cases: Array<[string, boolean]> = [
    ['http://example.com/', true],
    ['http://WWW.EXAMPLE.COM/', true],
    ['http://notexample.com/', false],
    ['http://corp.local/', true],
    ['http://a.b.corp.local/', true],
    ['https://x.svc:8443/', true],
    ['https://x.svc/', false],
    ['http://api.test:8080/', true],
    ['http://api.test/', false],
    ['http://10.0.0.1:9000/', true],
    ['http://10.0.0.2/', false],
    ['http://192.168.4.5/', true],
    ['http://[::1]:8080/', true],
    ['http://example.com./', true],
  ];
  for (const [url, bypass] of cases) assert.equal(bypassesProxy(rules, new URL(url)), bypass, url);
  assert.equal(bypassesProxy(parseNoProxy(['*']), new URL('http://anything/')), true);
  assert.equal(bypassesProxy(parseNoProxy(['']), new URL('http://anything/')), false);
});

test('resolveEgressProxy from env: lower case first, scheme added, NO_PROXY honoured, httpoxy guarded', () => {
  const p = resolveEgressProxy('env', {
    HTTP_PROXY: 'http://upper:1',
    http_proxy: 'lower:3128',
    HTTPS_PROXY: 'http://secure:8080',
    NO_PROXY: 'localhost,.internal',
  })!;
  assert.equal(p.proxyFor(new URL('http://a.example/')), 'http://lower:3128');
  assert.equal(p.proxyFor(new URL('https://a.example/')), 'http://secure:8080');
  assert.equal(p.proxyFor(new URL('https://db.internal/')), undefined);
  assert.equal(p.proxyFor(new URL('http://localhost:8080/')), undefined);
  assert.equal(resolveEgressProxy('env', {}), undefined);
  assert.equal(resolveEgressProxy(undefined, { HTTP_PROXY: 'http://x:1' }), undefined);
  const cgi = resolveEgressProxy('env', {
    REQUEST_METHOD: 'GET',
    HTTP_PROXY: 'http://evil:1',
    HTTPS_PROXY: 'http://s:1',
  })!;
  assert.equal(cgi.proxyFor(new URL('http://a.example/')), undefined, 'HTTP_PROXY ignored under CGI');
  const cfg = resolveEgressProxy({ https: 'http://p:1', noProxy: ['skip.me'] })!;
  assert.equal(cfg.proxyFor(new URL('http://a/')), undefined, 'no http proxy configured');
  assert.equal(cfg.proxyFor(new URL('https://skip.me/')), undefined);
  assert.equal(cfg.proxyFor(new URL('https://other/')), 'http://p:1');
  assert.equal(cfg.tunnel, false, 'http targets use absolute form unless asked');
  assert.equal(resolveEgressProxy({ http: 'http://p:1', tunnel: true })!.tunnel, true);
});

/** A minimal forward proxy: CONNECT tunnels, and absolute-form requests answered by the proxy itself. */
function startProxy(): Promise<ConnectProxy> {
  return startConnectProxy((req, res) =>
    res.end(`proxied ${req.method} ${req.url} host=${req.headers.host}`),
  );
}

test('https target through a CONNECT tunnel with the upstream TLS settings inside it', async () => {
  const proxy = await startProxy();
  const moduleCert = pki.issue('egress-module', { commonName: 'module-id', dnsNames: ['module-id'] });
  const upstream = https.createServer({ cert: moduleCert.chainPem, key: moduleCert.keyPem }, (req, res) =>
    res.end(`tls ${req.url}`),
  );
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const target = new URL(`https://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  try {
    const ok = createEgressDispatcher(proxy.url, target, {
      connect: {
        ...buildUpstreamConnectOptions({ caFile: pki.caFile, name: 'module-id' }, target),
        timeout: 5000,
      },
    });
    const res = await request(new URL('/x?y=1', target), { dispatcher: ok });
    assert.equal(await res.body.text(), 'tls /x?y=1');
    assert.deepEqual(proxy.connects, [`127.0.0.1:${target.port}`]);
    await ok.close();

    // Without the name override the certificate does not match 127.0.0.1: the TLS check runs in the tunnel.
    const bad = createEgressDispatcher(proxy.url, target, {
      connect: buildUpstreamConnectOptions({ caFile: pki.caFile }, target),
    });
    await assert.rejects(request(target, { dispatcher: bad }), (err: Error) =>
      /ALTNAME|altnames/i.test(
        String((err as { code?: string }).code) +
          err.message +
          String((err as { cause?: Error }).cause?.message),
      ),
    );
    await bad.close();
  } finally {
    proxy.close();
    upstream.closeAllConnections();
    upstream.close();
  }
});

test('http target: absolute-form request to the proxy, no CONNECT', async () => {
  const proxy = await startProxy();
  try {
    const target = new URL('http://backend.test:8080');
    const dispatcher = createEgressDispatcher(proxy.url, target);
    const res = await request('http://backend.test:8080/p?q=1', { dispatcher });
    assert.equal(await res.body.text(), 'proxied GET http://backend.test:8080/p?q=1 host=backend.test:8080');
    assert.deepEqual(proxy.connects, []);
    await dispatcher.close();
  } finally {
    proxy.close();
  }
});

test('http target with tunnel: a CONNECT to host:port, then an origin-form request inside it', async () => {
  const seen: string[] = [];
  const origin = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('from origin');
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const port = (origin.address() as AddressInfo).port;
  const proxy = await startProxy();
  try {
    const target = new URL(`http://127.0.0.1:${port}`);
    const dispatcher = createEgressDispatcher(proxy.url, target, { tunnel: true });
    const res = await request(`http://127.0.0.1:${port}/p?q=1`, { dispatcher });
    assert.equal(await res.body.text(), 'from origin');
    assert.deepEqual(proxy.connects, [`127.0.0.1:${port}`]);
    assert.deepEqual(proxy.absolute, []);
    assert.deepEqual(seen, ['/p?q=1']);
    await dispatcher.close();
  } finally {
    proxy.close();
    origin.close();
  }
});
