// TLS odds and ends through the engine: a PKCS#12 server certificate with a passphrase, the expiry
// gauge on /metrics, NODE_EXTRA_CA_CERTS for upstream trust, and an upstream without SNI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { toPkcs12 } from '../src/tls/pki.js';
import { createTestPki } from '../../../test/helpers/pki.js';
import { spawnServe } from '../../../test/helpers/cli.js';
import { request } from '../../../test/helpers/client.js';
import { startEngine } from '../../../test/helpers/engine.js';

async function tlsUpstream(cert: string, key: string) {
  const snis: string[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    snis.push((req.socket as TLSSocket).servername || '-');
    res.end(`ok ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    snis,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test('a PKCS#12 server certificate with a passphrase serves, and its expiry is on /metrics', async (t) => {
  const pki = createTestPki();
  t.after(() => pki.cleanup());
  const pfxFile = join(pki.dir, 'server.p12');
  writeFileSync(pfxFile, toPkcs12(pki.server, 'correct horse'));
  const gh = await startEngine({
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0, tls: true }],
        tls: { certificate: { pfxFile, passphrase: 'correct horse' } },
        routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'tls ok' } }],
      },
    ],
    admin: { port: 0 },
  });
  t.after(() => gh.close());
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get(
        { host: '127.0.0.1', port: gh.port, path: '/', ca: pki.ca.certPem, servername: 'localhost' },
        (res) => {
          let s = '';
          res.on('data', (c) => (s += c));
          res.on('end', () => resolve(s));
        },
      )
      .on('error', reject);
  });
  assert.equal(body, 'tls ok');
  const metrics = (await request(`http://127.0.0.1:${gh.gh.adminAddress()!.port}/metrics`)).text;
  const line = metrics.split('\n').find((l) => l.startsWith('gatehouse_certificate_expiry_seconds{'));
  assert.ok(line, 'expiry gauge present');
  assert.match(line, /localhost/);
  const seconds = Number(line.split(' ').at(-1));
  // The dev PKI issues certificates valid for about two years.
  assert.ok(seconds > 30 * 86400 && seconds < 3 * 365 * 86400, `expiry in ${seconds} s`);
  assert.doesNotMatch(metrics, /correct horse/);
});

test('NODE_EXTRA_CA_CERTS is trusted for upstreams that configure no CA', async (t) => {
  const pki = createTestPki();
  t.after(() => pki.cleanup());
  const up = await tlsUpstream(pki.server.chainPem, pki.server.keyPem);
  t.after(() => up.close());
  const file = join(pki.dir, 'gh.json');
  writeFileSync(
    file,
    JSON.stringify({
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0 }],
          routes: [
            { match: { prefix: '/' }, action: { type: 'proxy', upstream: `https://localhost:${up.port}` } },
          ],
        },
      ],
      hosts: { localhost: '127.0.0.1' },
      log: { level: 'info' },
    }),
  );
  const run = async (env: NodeJS.ProcessEnv) => {
    const { proc: p, port } = await spawnServe(file, env);
    try {
      return await request(`http://127.0.0.1:${port}/x`);
    } finally {
      p.kill('SIGKILL');
    }
  };
  const without = await run({ NODE_EXTRA_CA_CERTS: '' });
  assert.equal(without.status, 502);
  assert.equal(JSON.parse(without.text).error, 'upstream_tls');
  const withCa = await run({ NODE_EXTRA_CA_CERTS: pki.caFile });
  assert.equal(withCa.status, 200);
  assert.equal(withCa.text, 'ok /x');
});

test('upstream SNI: the URL host by default, the name override, none with serverName: false or an IP', async (t) => {
  const pki = createTestPki();
  t.after(() => pki.cleanup());
  const up = await tlsUpstream(pki.server.chainPem, pki.server.keyPem);
  t.after(() => up.close());
  const base = (host: string) => `https://${host}:${up.port}`;
  const gh = await startEngine({
    hosts: { localhost: '127.0.0.1' },
    servers: [
      {
        routes: [
          {
            match: { prefix: '/name' },
            action: { type: 'proxy', upstream: base('localhost'), options: { tls: { caFile: pki.caFile } } },
          },
          {
            match: { prefix: '/none' },
            action: {
              type: 'proxy',
              upstream: base('localhost'),
              options: { tls: { caFile: pki.caFile, serverName: false } },
            },
          },
          {
            match: { prefix: '/ip' },
            action: { type: 'proxy', upstream: base('127.0.0.1'), options: { tls: { caFile: pki.caFile } } },
          },
        ],
      },
    ],
  });
  t.after(() => gh.close());
  for (const path of ['/name', '/none', '/ip'])
    assert.equal((await request(gh.url + path, { headers: { host: 'client.example' } })).status, 200, path);
  assert.deepEqual(up.snis, ['localhost', '-', '-']);
});
