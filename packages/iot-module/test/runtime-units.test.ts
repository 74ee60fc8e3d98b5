// Units of the running module: the twin's proxy_config decoding, the SAS token's form, the token
// source's cache and single flight, the workload client against a minimal workload API on a unix socket.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  decodeProxyConfig,
  encodeProxyConfig,
  moduleResourceUri,
  ProxyConfigValueError,
  readDefaultTemplate,
  TokenSource,
  WorkloadClient,
  WorkloadError,
} from '../src/index.js';

test('proxy_config: base64, gzip+base64, null; strict refusals name the problem', () => {
  const template = readDefaultTemplate();
  assert.equal(decodeProxyConfig(Buffer.from(template).toString('base64')), template);
  assert.equal(decodeProxyConfig(gzipSync(template).toString('base64')), template);
  assert.equal(decodeProxyConfig(encodeProxyConfig(template)), template);
  assert.ok(encodeProxyConfig(template).length < 4096, 'the default template fits the 4 KB twin limit');
  assert.ok(Buffer.from(template).toString('base64').length > 4096, 'plain base64 does not');
  assert.equal(decodeProxyConfig(null), null);
  for (const [value, reason] of [
    [42, /expected a base64 string or null, got number/],
    ['', /empty string/],
    ['aGVsbG8=\n', /not valid base64/],
    ['aGVsbG8', /not valid base64/],
    ['aGV sbG8=', /not valid base64/],
    [Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), /not valid UTF-8/],
    [Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString('base64'), /gzip data cannot be read/],
  ] as const)
    assert.throws(
      () => decodeProxyConfig(value),
      (e: Error) => e instanceof ProxyConfigValueError && reason.test(e.message),
    );
});

test('module SAS audience: the Rust module form (lower-cased, slashes kept, IoT Hub encode set)', () => {
  assert.equal(
    moduleResourceUri('Hub.Azure-Devices.net', 'Dev 1', 'Api$Proxy'),
    'hub.azure-devices.net/devices/dev%201/modules/api%24proxy',
  );
});

test('token source: one sign call for 100 concurrent callers, cached for half its validity', async () => {
  let now = 1_700_000_000_000;
  let signs = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const key = Buffer.from('k3y');
  const source = new TokenSource({
    hubHostname: 'hub',
    deviceId: 'd',
    moduleId: 'm',
    now: () => now,
    sign: async (data) => {
      signs++;
      await gate;
      return createHmac('sha256', key).update(data).digest('base64');
    },
  });
  const waiting = Array.from({ length: 100 }, () => source.get());
  release();
  const tokens = await Promise.all(waiting);
  assert.equal(signs, 1);
  assert.equal(new Set(tokens).size, 1);
  const se = Math.floor(now / 1000) + 3600;
  const sig = createHmac('sha256', key).update(`hub/devices/d/modules/m\n${se}`).digest('base64');
  assert.equal(
    tokens[0],
    `SharedAccessSignature sr=hub/devices/d/modules/m&sig=${encodeURIComponent(sig)}&se=${se}`,
  );
  now += 1799_000;
  await source.get();
  assert.equal(signs, 1, 'still cached before half the validity');
  now += 2_000;
  await source.get();
  assert.equal(signs, 2, 'renewed after half the validity');
});

test('workload client: calls, api-version, bounded concurrency, errors with status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-wl-'));
  const socketPath = join(dir, 'w.sock');
  let active = 0;
  let maxActive = 0;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    seen.push(`${req.method} ${req.url} ${req.headers.connection}`);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      setTimeout(() => {
        active--;
        const reply = (status: number, obj: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        if (req.url?.startsWith('/trust-bundle'))
          return reply(200, { certificate: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });
        if (req.url?.includes('/sign')) {
          const data = (JSON.parse(body) as { data: string }).data;
          return reply(200, {
            digest: Buffer.from(`signed:${Buffer.from(data, 'base64').toString()}`).toString('base64'),
          });
        }
        reply(403, { message: 'forbidden' });
      }, 20),
    );
  });
  server.listen(socketPath);
  await once(server, 'listening');
  try {
    const client = new WorkloadClient({
      uri: `unix://${socketPath}`,
      moduleId: '$edge Hub',
      generationId: 'g1',
      maxConcurrent: 2,
    });
    assert.match(await client.trustBundle(), /BEGIN CERTIFICATE/);
    const digests = await Promise.all(Array.from({ length: 6 }, (_, i) => client.sign(`n${i}`)));
    assert.equal(Buffer.from(digests[3]!, 'base64').toString(), 'signed:n3');
    assert.equal(maxActive, 2);
    assert.ok(
      seen.some((l) =>
        l.startsWith('POST /modules/%24edge%20Hub/genid/g1/sign?api-version=2019-01-30 close'),
      ),
      seen.join('\n'),
    );
    await assert.rejects(
      client.serverCertificate('gw'),
      (e: Error) => e instanceof WorkloadError && e.status === 403 && /forbidden/.test(e.message),
    );
    assert.deepEqual(client.calls, { trustBundle: 1, serverCertificate: 1, sign: 6, errors: 1 });
    const absent = new WorkloadClient({
      uri: `unix://${join(dir, 'none.sock')}`,
      moduleId: 'm',
      generationId: 'g',
    });
    await assert.rejects(absent.trustBundle(), (e: Error) => e instanceof WorkloadError && e.status === 0);
    assert.throws(
      () => new WorkloadClient({ uri: 'https://x', moduleId: 'm', generationId: 'g' }),
      /unsupported scheme/,
    );
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
