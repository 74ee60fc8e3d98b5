// Secrets never reach a log line: traffic carrying API keys (header and query), bearer tokens and
// cookies, a TLS key passphrase and private keys in the config, failures of every kind and a refused
// reload — all at log level trace, with the access log on. Every line the engine writes is captured
// and searched for each secret value.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { rawRequest } from '../helpers/raw-http.js';
import { request } from '../helpers/client.js';
import {
  closedPort,
  startEchoUpstream,
  startEngine,
  type EchoUpstream,
  type RunningEngine,
} from '../helpers/engine.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { teeChildOutput } from '../helpers/log-tee.js';
import { createLogger } from '../../packages/core/src/observability/logger.js';
import type { GatehouseConfig } from '../../packages/core/src/config/types.js';

// The canaries are shared with the suite-wide sweep (test/helpers/log-sweep.ts).
const SECRETS = JSON.parse(
  readFileSync(join(import.meta.dirname, '../helpers/canary-secrets.json'), 'utf8'),
) as {
  headerApiKey: string;
  queryApiKey: string;
  querySig: string;
  queryToken: string;
  bearer: string;
  cookie: string;
  passphrase: string;
  /** base64 of alice:s3cr3t-pw */
  basicAuth: string;
  upstreamPassword: string;
};

class Capture extends Writable {
  lines: string[] = [];
  private partial = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    teeChildOutput(chunk);
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop()!;
    this.lines.push(...parts.filter(Boolean));
    cb();
  }
  all(): string {
    return [...this.lines, this.partial].join('\n');
  }
}

let pki: TestPki;
let upstream: EchoUpstream;
let tlsUpstream: https.Server;
let engine: RunningEngine;
const appLog = new Capture();
const accessLog = new Capture();
let keyBody: string[] = [];
let encryptedKey: string;

function config(extra: Partial<GatehouseConfig> = {}, refusedPort = 1): GatehouseConfig {
  const tlsPort = (tlsUpstream.address() as AddressInfo).port;
  return {
    log: { level: 'trace', access: true },
    upstreams: {
      app: { url: upstream.url },
      down: { url: `http://127.0.0.1:${refusedPort}` },
      mtls: {
        url: `https://localhost:${tlsPort}`,
        tls: {
          ca: pki.ca.certPem,
          cert: pki.client.certPem,
          key: encryptedKey,
          passphrase: SECRETS.passphrase,
        },
      },
      creds: { url: `http://alice:${SECRETS.upstreamPassword}@127.0.0.1:${refusedPort}` },
    },
    servers: [
      {
        listen: [{ port: 0 }, { port: 0, tls: true }],
        tls: {
          certificate: {
            cert: pki.server.certPem,
            key: encryptedKey.replace(/x/g, 'x'),
            passphrase: SECRETS.passphrase,
          },
        },
        routes: [
          { match: { prefix: '/down/' }, action: { type: 'proxy', upstream: 'down' } },
          { match: { prefix: '/mtls/' }, action: { type: 'proxy', upstream: 'mtls' } },
          { match: { prefix: '/creds/' }, action: { type: 'proxy', upstream: 'creds' } },
          { match: { exact: '/deny' }, action: { type: 'return', status: 403, body: 'no' } },
          {
            match: { prefix: '/' },
            action: {
              type: 'proxy',
              upstream: 'app',
              setHeaders: [{ name: 'x-api-key', value: SECRETS.headerApiKey }],
            },
          },
        ],
      },
    ],
    ...extra,
  };
}

before(async () => {
  pki = createTestPki({ keyBits: 1024 });
  // The server key and the upstream client key, both encrypted with the passphrase.
  encryptedKey = createPrivateKey(pki.server.keyPem)
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: SECRETS.passphrase })
    .toString();
  keyBody = [
    ...pki.server.keyPem.split('\n').filter((l) => l && !l.startsWith('-----')),
    ...encryptedKey.split('\n').filter((l) => l && !l.startsWith('-----')),
  ];
  upstream = await startEchoUpstream();
  tlsUpstream = https.createServer(
    { cert: pki.server.certPem, key: pki.server.keyPem, requestCert: true, rejectUnauthorized: false },
    (_q, r) => r.end('ok'),
  );
  tlsUpstream.listen(0, '127.0.0.1');
  await once(tlsUpstream, 'listening');
  engine = await startEngine(config({}, await closedPort()), {
    logger: createLogger({ level: 'trace' }, appLog),
    accessLogStream: accessLog,
  });
});
after(async () => {
  await engine.close();
  await upstream.close();
  tlsUpstream.closeAllConnections();
  tlsUpstream.close();
  pki.cleanup();
});

function assertNoSecrets(minAccessLines: number): void {
  const logs = `${appLog.all()}\n${accessLog.all()}`;
  assert.ok(
    accessLog.lines.length >= minAccessLines,
    `only ${accessLog.lines.length} access log lines: the capture is not working`,
  );
  assert.ok(appLog.lines.length >= 2, 'the engine logger wrote nothing: the capture is not working');
  const leaks: string[] = [];
  for (const [name, value] of Object.entries(SECRETS)) if (logs.includes(value)) leaks.push(name);
  for (const line of keyBody)
    if (line.length > 20 && logs.includes(line)) leaks.push(`private key line ${line.slice(0, 12)}…`);
  assert.deepEqual(
    leaks,
    [],
    `secrets found in logs:\n${logs
      .split('\n')
      .filter((l) => leaks.some((k) => l.includes((SECRETS as Record<string, string>)[k] ?? '\u0000')))
      .slice(0, 5)
      .join('\n')}`,
  );
}

test('no secret appears in any log line at level trace', { timeout: 30_000 }, async () => {
  const q = `apikey=${SECRETS.queryApiKey}&sig=${SECRETS.querySig}&token=${SECRETS.queryToken}&x=1`;
  const headers = {
    'x-api-key': SECRETS.headerApiKey,
    authorization: `Bearer ${SECRETS.bearer}`,
    cookie: `session=${SECRETS.cookie}`,
  };
  // Success, return action, 404-less catch-all, upstream refused, upstream with credentials in its URL, mTLS upstream.
  for (const path of [
    `/ok?${q}`,
    `/deny?${q}`,
    `/down/x?${q}`,
    `/creds/x?${q}`,
    `/mtls/x?${q}`,
    `/a/%2e%2e%2fb?${q}`,
  ]) {
    const r = await request(engine.port, path, { headers });
    assert.ok(r.status !== undefined, `${path}: no answer`);
  }
  await request(engine.port, `/basic?${q}`, { headers: { authorization: `Basic ${SECRETS.basicAuth}` } });
  // Malformed requests carrying secrets, refused by the parser or the target checks.
  await rawRequest(
    engine.port,
    `GET /x?${q} HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer ${SECRETS.bearer}\r\n\r\n`,
  );
  await rawRequest(
    engine.port,
    `GET /x?${q} HTTP/1.1\r\nHost: a\r\nHost: b\r\nX-Api-Key: ${SECRETS.headerApiKey}\r\n\r\n`,
  );
  await rawRequest(engine.port, `GET /x?${q} HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  // A refused reload whose config carries the passphrase and keys.
  await assert.rejects(engine.gh.reload(config({ limits: { maxBodySize: -1 } })));
  // A good reload (logs at info) so the reload path is covered too.
  await engine.gh.reload(config({}, await closedPort()));
  await new Promise((r) => setTimeout(r, 100));

  assertNoSecrets(8);
});

test('a refused config that carries credentials is logged without them', {}, async () => {
  await assert.rejects(
    engine.gh.reload({
      ...config(),
      upstreams: {
        app: {
          url: `ftp://bob:${SECRETS.upstreamPassword}@host/`,
          tls: { passphrase: SECRETS.passphrase },
        },
      },
    }),
  );
  assertNoSecrets(0);
});
