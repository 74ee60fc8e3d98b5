// Southbound TLS through the real engine: an https upstream with mTLS, the verify-name override
// (nginx proxy_ssl_name), untrusted and self-signed upstreams refused with a 502 naming the cause unless
// trusted or `verify: false`, and egress through a CONNECT proxy with a NO_PROXY bypass.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { UpstreamTlsConfig } from '../src/config/types.js';
import { createCertificateAuthority, issueCertificate } from '../src/tls/index.js';
import { request } from '../../../test/helpers/client.js';
import { proxyRoute, startEngine, type RunningEngine as Engine } from '../../../test/helpers/engine.js';
import { startConnectProxy, type ConnectProxy } from '../../../test/helpers/connect-proxy.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());

interface TlsUpstream {
  port: number;
  /** Client certificate CNs seen ('' without one), per request. */
  clients: string[];
  close(): Promise<void>;
}

async function startTlsUpstream(options: https.ServerOptions): Promise<TlsUpstream> {
  const clients: string[] = [];
  const server = https.createServer(options, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const cn = peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : '';
    clients.push(cn);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`tls ${req.url} client=${cn} sni=${(req.socket as TLSSocket).servername || '-'}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    clients,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** An engine with one route per upstream TLS variant: `/<name>/…` → `url` with `tls`. */
async function engineFor(
  routes: Record<string, { url: string; tls?: UpstreamTlsConfig }>,
  extra = {},
): Promise<Engine> {
  return startEngine({
    log: { level: 'error' },
    ...extra,
    servers: [
      {
        routes: Object.entries(routes).map(([name, r]) => ({
          ...proxyRoute(r.url, r.tls ? { options: { tls: r.tls } } : {}),
          match: { prefix: `/${name}/` },
        })),
      },
    ],
  });
}

/**
 * GET `path` through a fresh engine whose only route proxies to `url` with `tls`. One engine per variant:
 * routes to one origin with different TLS settings share a pool today (see the todo test below).
 */
async function via(url: string, tls: UpstreamTlsConfig | undefined, path: string, extra = {}) {
  const engine = await engineFor({ r: { url, tls } }, extra);
  try {
    return await request(`${engine.url}/r${path}`);
  } finally {
    await engine.close();
  }
}

function json(text: string): { error: string; detail?: string; status: number } {
  return JSON.parse(text) as { error: string; detail?: string; status: number };
}

test('mTLS upstream: the client certificate is presented; without it the upstream refuses (502)', async () => {
  const up = await startTlsUpstream({
    cert: pki.server.chainPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const base = `https://127.0.0.1:${up.port}`;
  try {
    const r = await via(
      base,
      { caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile },
      '/a',
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'tls /r/a client=test-client sni=-', 'no SNI for an IP literal');
    const inline = await via(
      base,
      { ca: pki.ca.certPem, cert: pki.client.chainPem, key: pki.client.keyPem },
      '/b',
    );
    assert.equal(inline.status, 200, inline.text);
    const refused = await via(base, { caFile: pki.caFile }, '/c');
    assert.equal(refused.status, 502, refused.text);
    assert.equal(refused.headers['content-type'], 'application/json');
    assert.match(json(refused.text).error, /^upstream_/);
    assert.deepEqual(up.clients, ['test-client', 'test-client']);
  } finally {
    await up.close();
  }
});

test('verify-name override (proxy_ssl_name): SNI and verification use tls.name, not the URL host', async () => {
  const moduleCert = pki.issue('upstream-module', { commonName: 'module-id', dnsNames: ['module-id'] });
  const up = await startTlsUpstream({ cert: moduleCert.chainPem, key: moduleCert.keyPem });
  const base = `https://127.0.0.1:${up.port}`;
  try {
    const ok = await via(base, { caFile: pki.caFile, name: 'module-id' }, '/x');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.text, 'tls /r/x client= sni=module-id');
    for (const tls of [{ caFile: pki.caFile }, { caFile: pki.caFile, name: 'other-id' }]) {
      const r = await via(base, tls, '/x');
      assert.equal(r.status, 502, `${JSON.stringify(tls)}: ${r.text}`);
      const body = json(r.text);
      assert.equal(body.error, 'upstream_tls');
      assert.equal(body.detail, 'ERR_TLS_CERT_ALTNAME_INVALID');
    }
  } finally {
    await up.close();
  }
});

test('untrusted and self-signed upstreams: 502 naming the cause, unless trusted or verify: false', async () => {
  const other = createCertificateAuthority({ commonName: 'Other CA', keyBits: 2048 });
  const leaf = issueCertificate(other, {
    commonName: 'localhost',
    ipAddresses: ['127.0.0.1'],
    keyBits: 2048,
  });
  // A leaf whose issuer is not sent and not trusted.
  const untrusted = await startTlsUpstream({ cert: leaf.certPem, key: leaf.keyPem });
  // A self-signed certificate (the CA certificate itself).
  const selfSigned = await startTlsUpstream({ cert: other.certPem, key: other.keyPem });
  const u = `https://127.0.0.1:${untrusted.port}`;
  const s = `https://127.0.0.1:${selfSigned.port}`;
  try {
    const cases: Array<[string, string, UpstreamTlsConfig | undefined, number, string?]> = [
      ['untrusted', u, undefined, 502, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['untrusted, other CA', u, { caFile: pki.caFile }, 502, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['untrusted, its CA trusted', u, { ca: other.certPem }, 200],
      ['untrusted, verify off', u, { verify: false }, 200],
      ['self-signed', s, undefined, 502, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      ['self-signed, verify off', s, { verify: false }, 200],
    ];
    for (const [name, url, tls, status, detail] of cases) {
      const r = await via(url, tls, '/x');
      assert.equal(r.status, status, `${name}: ${r.text}`);
      if (detail) {
        const body = json(r.text);
        assert.equal(body.error, 'upstream_tls', name);
        assert.equal(body.detail, detail, name);
      }
    }
  } finally {
    await untrusted.close();
    await selfSigned.close();
  }
});

test('routes to one origin with different upstream TLS settings each use their own', async () => {
  const up = await startTlsUpstream({
    cert: pki.server.chainPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    // Ask for a client certificate but accept connections without one: each route's own settings show.
    rejectUnauthorized: false,
  });
  const base = `https://127.0.0.1:${up.port}`;
  const engine = await engineFor({
    mtls: {
      url: base,
      tls: { caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile },
    },
    plain: { url: base, tls: { caFile: pki.caFile } },
    noverify: { url: base, tls: { verify: false, name: 'nothing-matches' } },
  });
  try {
    assert.equal((await request(`${engine.url}/mtls/x`)).text, 'tls /mtls/x client=test-client sni=-');
    assert.equal((await request(`${engine.url}/plain/x`)).text, 'tls /plain/x client= sni=-');
    assert.equal(
      (await request(`${engine.url}/noverify/x`)).text,
      'tls /noverify/x client= sni=nothing-matches',
    );
  } finally {
    await engine.close();
    await up.close();
  }
});

/** A forward proxy: CONNECT tunnels to the named host:port; absolute-form requests relayed. */
function startProxy(): Promise<ConnectProxy> {
  return startConnectProxy((req, res) => {
    const target = new URL(req.url ?? '/');
    const out = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-via-proxy': '1' });
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
}

test('egress through a CONNECT proxy (TLS inside the tunnel) and absolute-form for http; noProxy bypasses', async () => {
  const proxy = await startProxy();
  const moduleCert = pki.issue('egress-upstream', { commonName: 'module-id', dnsNames: ['module-id'] });
  const secure = await startTlsUpstream({ cert: moduleCert.chainPem, key: moduleCert.keyPem });
  const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const plainPort = (plain.address() as AddressInfo).port;
  const routes = {
    secure: { url: `https://127.0.0.1:${secure.port}`, tls: { caFile: pki.caFile, name: 'module-id' } },
    plain: { url: `http://127.0.0.1:${plainPort}` },
  };
  const viaProxy = await engineFor(routes, { egressProxy: { https: proxy.url, http: proxy.url } });
  const bypass = await engineFor(routes, {
    egressProxy: { https: proxy.url, http: proxy.url, noProxy: ['127.0.0.1'] },
  });
  try {
    const r = await request(`${viaProxy.url}/secure/tunnel`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'tls /secure/tunnel client= sni=module-id', 'TLS settings apply inside the tunnel');
    assert.deepEqual(proxy.connects, [`127.0.0.1:${secure.port}`]);
    const p = await request(`${viaProxy.url}/plain/abs?q=1`);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.text, 'plain /plain/abs?q=1');
    assert.deepEqual(proxy.absolute, [`http://127.0.0.1:${plainPort}/plain/abs?q=1`]);

    const d = await request(`${bypass.url}/secure/direct`);
    assert.equal(d.status, 200, d.text);
    assert.equal((await request(`${bypass.url}/plain/direct`)).status, 200);
    assert.equal(proxy.connects.length, 1, 'NO_PROXY: no tunnel');
    assert.equal(proxy.absolute.length, 1, 'NO_PROXY: no absolute-form request');
  } finally {
    await viaProxy.close();
    await bypass.close();
    proxy.close();
    await secure.close();
    plain.closeAllConnections();
    plain.close();
  }
});

test('egress proxy down: 502 JSON', async () => {
  const dead = net.createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const port = (dead.address() as AddressInfo).port;
  dead.close();
  const engine = await engineFor(
    { secure: { url: 'https://127.0.0.1:9/', tls: { caFile: pki.caFile } } },
    { egressProxy: { https: `http://127.0.0.1:${port}` } },
  );
  try {
    const r = await request(`${engine.url}/secure/x`);
    assert.equal(r.status, 502, r.text);
    assert.match(json(r.text).error, /^upstream_/);
  } finally {
    await engine.close();
  }
});
