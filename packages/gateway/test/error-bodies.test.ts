// Every core error an edgemicro client can see, with edgemicro's status and body byte-exact (§4.9),
// through core's error-renderer slot on real sockets.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startInProcess, tempDir, writeConfig, type InProcessGateway } from './helpers.js';

const tmp = tempDir();
let slow: http.Server;
let gw: InProcessGateway;

before(async () => {
  slow = http.createServer((req) => void req.resume()); // never answers
  slow.listen(0, '127.0.0.1');
  await once(slow, 'listening');
  const slowPort = (slow.address() as AddressInfo).port;
  writeConfig(
    tmp.dir,
    'o',
    'e',
    [
      'edgemicro:',
      '  port: 8000',
      '  address: 127.0.0.1',
      '  request_timeout: 1',
      '  maxHttpHeaderSize: 2048',
      '  logging: { level: none, to_console: true }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(tmp.dir, 'standalone.yaml'),
    [
      'proxies:',
      '  - { name: refused, base_path: /refused, url: "http://127.0.0.1:9/" }',
      `  - { name: slow, base_path: /slow, url: "http://127.0.0.1:${slowPort}/" }`,
      '',
    ].join('\n'),
  );
  gw = await startInProcess({
    mode: 'standalone',
    org: 'o',
    env: 'e',
    configDir: tmp.dir,
    cwd: tmp.dir,
    standaloneFile: join(tmp.dir, 'standalone.yaml'),
  });
});
after(async () => {
  await gw?.close();
  slow.closeAllConnections();
  slow.close();
  tmp.cleanup();
});

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.base}${path}`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

test('404 no proxy matches', async () => {
  assert.deepEqual(await call('/nowhere'), {
    status: 404,
    type: 'application/json; charset=utf-8',
    body: '{"message":"no match found","status":404}',
  });
});

test('502 target refused: the Node error as JSON', async () => {
  assert.deepEqual(await call('/refused/x'), {
    status: 502,
    type: null,
    body: '{"message":"connect ECONNREFUSED 127.0.0.1:9","errno":-111,"code":"ECONNREFUSED","syscall":"connect","address":"127.0.0.1","port":9}',
  });
});

test('504 request_timeout (seconds)', async () => {
  assert.deepEqual(await call('/slow/x'), {
    status: 504,
    type: null,
    body: '{"message":"Gateway timed out trying to reach target"}',
  });
});

test('400 header over maxHttpHeaderSize', async () => {
  assert.deepEqual(await call('/refused/x', { 'x-big': 'a'.repeat(4096) }), {
    status: 400,
    type: null,
    body: '{"error":"header length more than allowed size"}',
  });
});
