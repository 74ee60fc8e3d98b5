// The IoT emulators behave as the real services where the module and the SDK can tell: the workload
// API's errors and 403 for another module, its certificates (SANs, lifetime); the blob fake's 411.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import { startBlobStorage } from '../emulators/iot/blob-storage.js';
import { startWorkloadApi } from '../emulators/iot/workload-api.js';

function call(socketPath: string, method: string, path: string, body?: unknown, type = 'application/json') {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path,
        headers: data ? { 'content-type': type, 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

test('workload API emulator: api-version, 403 for another module, sign, short-lived server certificates', async () => {
  const w = await startWorkloadApi({
    modules: { apiproxy: undefined, other: undefined },
    caller: 'apiproxy',
    serverCertLifetimeMs: 5000,
    keyBits: 1024,
  });
  try {
    assert.deepEqual(await call(w.socketPath, 'GET', '/trust-bundle'), {
      status: 400,
      json: { message: 'api-version not specified' },
    });
    assert.equal((await call(w.socketPath, 'GET', '/trust-bundle?api-version=1999-01-01')).status, 400);
    const tb = await call(w.socketPath, 'GET', '/trust-bundle?api-version=2018-06-28');
    assert.equal(tb.json.certificate, w.trustBundle);
    const data = Buffer.from('hello').toString('base64');
    const forbidden = await call(w.socketPath, 'POST', '/modules/other/genid/g/sign?api-version=2019-01-30', {
      keyId: 'primary',
      algo: 'HMACSHA256',
      data,
    });
    assert.deepEqual(forbidden, { status: 403, json: { message: 'forbidden' } });
    const signed = await call(w.socketPath, 'POST', '/modules/apiproxy/genid/g/sign?api-version=2019-01-30', {
      keyId: 'primary',
      algo: 'HMACSHA256',
      data,
    });
    assert.equal(signed.json.digest, w.sign('apiproxy', 'hello'));
    const noType = await call(
      w.socketPath,
      'POST',
      '/modules/apiproxy/genid/g/sign?api-version=2019-01-30',
      { data },
      'text/plain',
    );
    assert.deepEqual(noType, { status: 400, json: { message: 'missing parameter: request body' } });
    const cert = await call(
      w.socketPath,
      'POST',
      '/modules/apiproxy/genid/g/certificate/server?api-version=2019-01-30',
      { commonName: '10.1.2.3' },
    );
    assert.equal(cert.status, 201);
    const x = new X509Certificate(String(cert.json.certificate));
    assert.match(x.subjectAltName ?? '', /IP Address:10\.1\.2\.3/);
    assert.match(x.subjectAltName ?? '', /DNS:apiproxy/);
    assert.ok(Date.parse(x.validTo) - Date.now() <= 6000);
    assert.ok(x.checkIssued(new X509Certificate(w.ca.certPem)));
    assert.deepEqual(
      { sign: w.counters.sign, serverCert: w.counters.serverCert, forbidden: w.counters.forbidden },
      { sign: 1, serverCert: 1, forbidden: 1 },
    );
  } finally {
    await w.close();
  }
});

test('blob storage emulator: 411 for a Put Blob without Content-Length, 201 with it', async () => {
  const b = await startBlobStorage();
  try {
    const put = (headers: Record<string, string>, chunks: string[]) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: b.port,
            method: 'PUT',
            path: '/acct/c/blob',
            headers: { 'x-ms-version': '2019-12-12', ...headers },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (const c of chunks) req.write(c);
        req.end();
      });
    assert.equal(await put({ 'transfer-encoding': 'chunked' }, ['abc', 'def']), 411);
    assert.equal(await put({ 'content-length': '6' }, ['abc', 'def']), 201);
    assert.equal(b.blobs.get('/acct/c/blob')?.size, 6);
  } finally {
    await b.close();
  }
});
