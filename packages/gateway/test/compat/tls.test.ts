// microgateway-core's config_ssl and config_target_ssl tests through the compat API: northbound
// HTTPS from `edgemicro.ssl` (file paths), southbound HTTPS with `targets[].ssl.client` (CA and a
// client certificate the target requires); real TLS on loopback with a CA made at run time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTestPki } from '../../../../test/helpers/pki.js';
import {
  baseConfig,
  freePort,
  microgateway,
  request,
  startGateway,
  startTarget,
  stopGateway,
} from './support.js';

const pki = createTestPki({ keyBits: 1024 });
after(() => pki.cleanup());

test('northbound TLS from edgemicro.ssl key/cert files: the client verifies the gateway against the CA', async () => {
  const target = await startTarget();
  const port = await freePort();
  const gateway = microgateway(
    baseConfig(port, target.url, {
      edgemicro: { ssl: { key: pki.server.keyFile, cert: pki.server.certFile } },
    }),
  );
  await startGateway(gateway);
  try {
    const r = await request(`https://127.0.0.1:${port}/v1/echo/get`, { ca: readFileSync(pki.caFile) });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
    assert.equal(target.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
    // Plain HTTP on the TLS port is not proxied: core answers nginx's plain-text 400 and closes.
    const plain = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(plain.status, 400);
    assert.equal(target.seen.length, 1, 'the target saw only the HTTPS request');
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
});

test('southbound TLS from targets[].ssl.client: CA, client certificate and key files reach the target', async () => {
  const target = await startTarget({
    tls: {
      key: readFileSync(pki.server.keyFile),
      cert: readFileSync(pki.server.certFile),
      ca: readFileSync(pki.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    },
  });
  const port = await freePort();
  const gateway = microgateway(
    baseConfig(port, target.url, {
      targets: [
        {
          host: '127.0.0.1',
          ssl: { client: { ca: pki.caFile, cert: pki.client.certFile, key: pki.client.keyFile } },
        },
      ],
    }),
  );
  await startGateway(gateway);
  try {
    const r = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
    // The target requires a client certificate from the CA: only the configured one gets a request through.
    assert.equal(target.seen.length, 1);
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
});

test('southbound TLS without a targets entry for a private CA: 502, the target is never reached', async () => {
  const target = await startTarget({
    tls: { key: readFileSync(pki.server.keyFile), cert: readFileSync(pki.server.certFile) },
  });
  const port = await freePort();
  const gateway = microgateway(baseConfig(port, target.url));
  await startGateway(gateway);
  try {
    const r = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(r.status, 502);
    assert.equal(target.seen.length, 0);
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
});

test('targets[].ssl.client for another host does not apply', async () => {
  const target = await startTarget({
    tls: { key: readFileSync(pki.server.keyFile), cert: readFileSync(pki.server.certFile) },
  });
  const port = await freePort();
  const gateway = microgateway(
    baseConfig(port, target.url, {
      targets: [{ host: 'other.example', ssl: { client: { ca: pki.caFile } } }],
    }),
  );
  await startGateway(gateway);
  try {
    const r = await request(`http://127.0.0.1:${port}/v1/echo/get`);
    assert.equal(r.status, 502);
  } finally {
    await stopGateway(gateway);
    await target.close();
  }
});
