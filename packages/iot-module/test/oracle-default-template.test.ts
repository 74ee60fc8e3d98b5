// Differential test: the default template rendered for the top and lower layers, served by Debian
// nginx (the behaviour users have today) and by Gatehouse, behind the same recording upstreams; one
// request corpus → status, the upstream that got it, its exact target and selected headers, and the
// body must agree. Deliberate differences are listed as explicit exceptions below. Skips when nginx
// is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGatehouse, type Gatehouse } from '@gatehouse/core';
import { startDnsResponder, type DnsResponder } from '../../../test/helpers/dns-responder.js';
import { nginxUnavailable, startNginx, type NginxProcess } from '../../../test/helpers/nginx.js';
import { closedPort } from '../../../test/helpers/engine.js';
import {
  LOOPBACK_NAMES,
  createIotPki,
  renderLayer,
  send,
  startRecorder,
  startTokenServer,
  type ClientRequest,
  type IotPki,
  type Layer,
  type Recorded,
  type Recorder,
  type TokenServer,
  type UpstreamPorts,
  upstreamPorts,
} from './golden-harness.js';

const MiB = 1024 * 1024;
const TOKEN = 'SharedAccessSignature sr=hub&sig=oracle-token';
/** Upstream request headers compared between nginx and Gatehouse. */
const COMPARED_HEADERS = [
  'host',
  'authorization',
  'x-ms-edge-clientcert',
  'x-ms-version',
  'x-ms-blob-type',
  'content-type',
  'content-length',
  'accept',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-custom',
];

interface OracleCase extends ClientRequest {
  name: string;
  /** A deliberate or known difference: what each side must show instead of equality. */
  exception?: { reason: string; check(nginx: Observation, ours: Observation): void };
}

const topCorpus: OracleCase[] = [
  { name: 'registry API', path: '/v2/' },
  {
    name: 'manifest HEAD, query byte-exact',
    method: 'HEAD',
    path: '/v2/lib/alpine/manifests/latest?x=%2F+%25',
    headers: { accept: 'application/json' },
  },
  { name: '^/v2*. matches /video', path: '/video' },
  { name: '^/v2*. on the decoded URI: /%76ideo', path: '/%76ideo' },
  { name: '/v alone', path: '/v' },
  { name: '/V2/', path: '/V2/' },
  { name: 'internal prefix reachable', path: '/registry/v2/' },
  {
    name: 'edgeHub, module token',
    method: 'PUT',
    path: '/devices/d1/modules/m1?api-version=2020-09-30',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  },
  {
    name: 'edgeHub, caller Authorization wins',
    path: '/devices/d1/modules',
    headers: { authorization: 'SharedAccessSignature sr=child' },
  },
  {
    name: 'edgeHub, forged x-ms-edge-clientcert dropped',
    path: '/devices/d1/modules',
    headers: { 'x-ms-edge-clientcert': 'forged' },
  },
  { name: 'edgeHub, client certificate escaped', path: '/devices/d1/modules', clientCert: true },
  {
    name: 'direct method',
    method: 'POST',
    path: '/twins/d1/methods',
    body: '{"methodName":"m"}',
    headers: { 'content-type': 'application/json' },
  },
  { name: '…twins/ anywhere', path: '/x/twins/abc' },
  { name: '/devicesXYZ', path: '/devicesXYZ' },
  {
    name: 'blob upload',
    method: 'PUT',
    path: '/acct/c/b?sv=1&sig=a%2Fb',
    headers: { 'x-ms-version': '2019-02-02', 'x-ms-blob-type': 'BlockBlob' },
    body: 'hello',
  },
  { name: 'x-ms-version wins over /devices', path: '/devices/d1', headers: { 'x-ms-version': '2019-02-02' } },
  { name: 'x-ms-version "0" is false', path: '/v2/', headers: { 'x-ms-version': '0' } },
  { name: 'internal /auth', path: '/auth' },
  { name: 'unmatched', path: '/nothing/here' },
  {
    name: '1 MiB passes',
    method: 'PUT',
    path: '/acct/c/big',
    headers: { 'x-ms-version': '1' },
    body: Buffer.alloc(MiB, 120),
  },
  {
    name: '1 MiB + 1 → 413',
    method: 'PUT',
    path: '/acct/c/big',
    headers: { 'x-ms-version': '1' },
    body: Buffer.alloc(MiB + 1, 120),
  },
  {
    name: 'header nominated by Connection',
    path: '/v2/hop',
    headers: { connection: 'x-custom', 'x-custom': '1' },
    exception: {
      reason: 'deliberate: we strip headers nominated in Connection (RFC 9110 §7.6.1); nginx forwards them',
      check: (nginx, ours) => {
        assert.equal(nginx.upstream?.headers['x-custom'], '1');
        assert.equal(ours.upstream?.headers['x-custom'], undefined);
        assert.deepEqual(withoutHeader(ours, 'x-custom'), withoutHeader(nginx, 'x-custom'));
      },
    },
  },
  {
    name: 'routed as /v2/, forwarded raw',
    path: '/devices/../v2/',
    exception: {
      reason:
        'engine bug (reported): a variable proxy_pass URL goes through WHATWG URL, which removes dot segments',
      check: (nginx, ours) => {
        assert.equal(nginx.upstream?.url, '/devices/../v2/');
        assert.equal(ours.upstream?.name, nginx.upstream?.name);
        assert.equal(ours.status, nginx.status);
      },
    },
  },
];

const lowerCorpus: OracleCase[] = [
  { name: 'registry API via the parent', path: '/v2/' },
  { name: '/video via the parent', path: '/video' },
  {
    name: 'blob upload via the parent',
    method: 'PUT',
    path: '/acct/c/b?comp=appendblock',
    headers: { 'x-ms-version': '2019-02-02' },
    body: 'abc',
  },
  { name: '/parent/… reachable', path: '/parent/v2/' },
  { name: 'edgeHub stays local', path: '/devices/d1/modules' },
  { name: 'no local registry location', path: '/registry/v2/' },
  { name: '1 MiB + 1 → 413', method: 'PUT', path: '/v2/x/blobs/uploads/1', body: Buffer.alloc(MiB + 1) },
];

interface Observation {
  status: number;
  body: string;
  upstream:
    { name: string; url: string; headers: Record<string, string | undefined>; sni?: string } | undefined;
}

/** The observation compared for equality: SNI left out (checked apart). */
function withoutSni(o: Observation): Observation {
  if (!o.upstream) return o;
  const { sni: _sni, ...upstream } = o.upstream;
  return { ...o, upstream };
}

function withoutHeader(o: Observation, name: string): Observation {
  if (!o.upstream) return o;
  const headers = { ...o.upstream.headers };
  delete headers[name];
  return { ...o, upstream: { ...o.upstream, headers } };
}

const unavailable = nginxUnavailable();

describe('default template: Debian nginx vs Gatehouse', { skip: unavailable ?? false }, () => {
  let pki: IotPki;
  const received: Recorded[] = [];
  let recorders: Recorder[] = [];
  let token: TokenServer;
  let dns: DnsResponder;
  let ports: UpstreamPorts;

  before(async () => {
    pki = createIotPki();
    recorders = await Promise.all([
      startRecorder('registry', received),
      startRecorder('blob', received),
      startRecorder('acr', received),
      startRecorder('edgehub', received, { cert: pki.server.chainPem, key: pki.server.keyPem }),
      startRecorder('parent', received, { cert: pki.parentGood.chainPem, key: pki.parentGood.keyPem }),
    ]);
    token = await startTokenServer(TOKEN, 20);
    dns = await startDnsResponder(Object.fromEntries(LOOPBACK_NAMES.map((n) => [n, '127.0.0.1'])));
    ports = upstreamPorts(recorders, token.port);
  });

  after(async () => {
    await Promise.all([...recorders, token, dns].filter(Boolean).map((r) => r.close()));
    pki?.cleanup();
  });

  /**
   * The rendered text as nginx gets it. Only test plumbing changes: `user root;`, the listen address
   * and port, the resolver's port (our DNS responder instead of Docker's 127.0.0.11:53), the cache
   * and temp directories inside nginx's prefix. Every change must apply exactly once.
   */
  function nginxConf(rendered: string, listenPort: number): string {
    const edits: Array<[RegExp, string, number]> = [
      [/^(\s*)listen \d+ ssl default_server;/m, `$1listen 127.0.0.1:${listenPort} ssl default_server;`, 1],
      [/resolver 127\.0\.0\.11;/g, `resolver 127.0.0.1:${dns.port} ipv6=off;`, -1],
      [/proxy_cache_path \/var\/cache\/nginx /, 'proxy_cache_path cache ', 1],
      [
        /^http \{$/m,
        'http {\n    client_body_temp_path body; proxy_temp_path proxy; fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi;',
        1,
      ],
    ];
    let text = `user root;\n${rendered}`;
    for (const [re, replacement, times] of edits) {
      const count = text.match(re.global ? re : new RegExp(re.source, `${re.flags}g`))?.length ?? 0;
      assert.ok(
        times === -1 ? count > 0 : count === times,
        `nginx conf edit ${re} applies (${count} matches)`,
      );
      text = text.replace(re, replacement);
    }
    return text;
  }

  async function observe(port: number, c: OracleCase): Promise<Observation> {
    const start = received.length;
    const res = await send(port, pki, c);
    const got = received.slice(start);
    assert.ok(got.length <= 1, `${c.name}: at most one upstream request`);
    const r = got[0];
    return {
      status: res.status,
      // Error pages differ by design (nginx HTML, our JSON): bodies are compared for upstream answers.
      body: r ? res.body : '',
      upstream: r && {
        name: r.upstream,
        ...(r.servername !== undefined ? { sni: r.servername } : {}),
        url: r.url,
        headers: Object.fromEntries(COMPARED_HEADERS.map((h) => [h, r.headers[h] as string | undefined])),
      },
    };
  }

  async function compareLayer(
    t: import('node:test').TestContext,
    layer: Layer,
    corpus: OracleCase[],
  ): Promise<void> {
    const { rendered, config } = renderLayer(layer, ports, pki.confDir);
    const nginxPort = await closedPort();
    let nginx: NginxProcess | undefined;
    let gh: Gatehouse | undefined;
    try {
      nginx = await startNginx({
        conf: nginxConf(rendered, nginxPort),
        files: ['server.crt', 'private_key_server.pem', 'trustedCA.crt'].map((f) => `${pki.confDir}/${f}`),
      });
      gh = createGatehouse({ config, baseDir: pki.confDir });
      await gh.start();
      const ourPort = gh.addresses()[0]!.port;
      const tokenCalls = { nginx: [] as Recorded[], ours: [] as Recorded[] };
      const hostCaseDifferences: string[] = [];
      const sniDifferences: string[] = [];
      for (const c of corpus) {
        await t.test(c.name, async () => {
          let mark = token.calls.length;
          const fromNginx = await observe(nginxPort, c).catch((e: Error) => {
            throw new Error(`nginx: ${e.message}\n${nginx!.errorLog().slice(-3000)}`);
          });
          tokenCalls.nginx.push(...token.calls.slice(mark));
          mark = token.calls.length;
          const fromOurs = await observe(ourPort, c);
          tokenCalls.ours.push(...token.calls.slice(mark));
          if (c.exception) c.exception.check(fromNginx, fromOurs);
          else assert.deepEqual(withoutSni(fromOurs), withoutSni(fromNginx));
          if (fromNginx.upstream && fromNginx.upstream.sni !== fromOurs.upstream?.sni)
            sniDifferences.push(
              `${c.name}: nginx ${fromNginx.upstream.sni ?? '(none)'}, ours ${fromOurs.upstream?.sni ?? '(none)'}`,
            );
          if (fromNginx.upstream && fromNginx.upstream.headers.host !== fromOurs.upstream?.headers.host)
            hostCaseDifferences.push(
              `${c.name}: nginx ${fromNginx.upstream.headers.host}, ours ${fromOurs.upstream?.headers.host}`,
            );
        });
      }
      await t.test('Host keeps the case written in proxy_pass', () => {
        assert.deepEqual(hostCaseDifferences, []);
      });
      await t.test('upstream SNI: proxy_ssl_name to the parent, none to edgeHub', () => {
        assert.deepEqual(sniDifferences, []);
      });
      await t.test('token subrequest: same target, fetched once (sequential requests)', () => {
        const shape = (calls: Recorded[]) => calls.map((r) => ({ method: r.method, url: r.url }));
        assert.deepEqual(shape(tokenCalls.ours), shape(tokenCalls.nginx));
        assert.equal(tokenCalls.ours.length, 1);
      });
      assert.doesNotMatch(nginx.errorLog(), /\[(alert|emerg)\]/);
    } finally {
      await gh?.close(500);
      await nginx?.close();
    }
  }

  test('top layer', (t) => compareLayer(t, 'top', topCorpus));
  test('lower layer', (t) => compareLayer(t, 'lower', lowerCorpus));
});
