// Northbound TLS through the real engine (createGatehouse on 127.0.0.1): certificate rotation under load
// (watched files with a Kubernetes-style symlink swap, and `updateCertificate`), config reload of TLS
// settings, SNI, each client-certificate mode with nginx's answers, `$ssl_client_escaped_cert`, and
// TLS version/cipher settings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import type { GatehouseConfig, ServerConfig, ServerTlsConfig } from '../src/config/types.js';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../src/tls/index.js';
import {
  proxyRoute,
  startEngine,
  startUpstream,
  type RunningEngine as Engine,
} from '../../../test/helpers/engine.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());
const local = { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

type Route = ServerConfig['routes'][number];
const okRoute: Route = { match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'ok' } };

function tlsServer(t: ServerTlsConfig, routes: Route[] = [okRoute], extra: Partial<ServerConfig> = {}) {
  return { listen: [{ address: '127.0.0.1', port: 0, tls: true }], tls: t, routes, ...extra };
}

function serialOf(c: IssuedCertificate): string {
  return c.serialHex.toUpperCase();
}

/** The serial of the certificate a new handshake presents (no SNI unless `servername`). */
function peerSerial(port: number, opts: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.once('error', reject);
    s.setTimeout(3000, () => s.destroy(new Error('handshake timeout')));
  });
}

/** Resolves once the handshake completes (with the negotiated protocol and cipher), rejects when refused. */
function handshake(
  port: number,
  opts: tls.ConnectionOptions,
): Promise<{ protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const r = { protocol: s.getProtocol(), cipher: s.getCipher().name };
      s.destroy();
      resolve(r);
    });
    s.once('error', reject);
    s.setTimeout(3000, () => s.destroy(new Error('handshake timeout')));
  });
}

/** Poll `f` until it returns true; bounded. */
async function until(f: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface HttpsReply {
  status: number;
  text: string;
  socket: tls.TLSSocket;
}

function httpsGet(port: number, opts: https.RequestOptions = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/', ca: pki.ca.certPem, agent: false, timeout: 5000, ...opts },
      (res) => {
        const socket = res.socket as tls.TLSSocket; // released to the agent (and nulled) at 'end'
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), socket }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    req.end();
  });
}

interface LoadResult {
  served: Array<{ serial: string; at: number }>;
  failures: string[];
  /** Distinct connections used. */
  sockets: number;
}

// The load runs in a worker thread: 200 TLS clients in the engine's own event loop would starve its
// handshakes (the probes), which says nothing about the engine.
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { port, ca, n } = workerData;
const agent = new https.Agent({ keepAlive: true, maxSockets: n, ca });
const serials = new WeakMap();
const sockets = new Set();
const served = [];
const failures = [];
let stop = false;
parentPort.on('message', () => { stop = true; });
const timer = setInterval(() => parentPort.postMessage({ progress: { served: served.length, sockets: sockets.size } }), 50);
function one() {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', agent, timeout: 5000 }, (res) => {
      const socket = res.socket;
      sockets.add(socket);
      let serial = serials.get(socket);
      if (!serial) serials.set(socket, (serial = socket.getPeerCertificate().serialNumber));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 200 && body === 'ok') served.push({ serial, at: Date.now() });
        else failures.push('status ' + res.statusCode + ' ' + body);
        resolve();
      });
      res.on('error', (e) => (failures.push(e.message), resolve()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => (failures.push(e.message), resolve()));
    req.end();
  });
}
Promise.all(Array.from({ length: n }, async () => { while (!stop) await one(); })).then(() => {
  clearInterval(timer);
  parentPort.postMessage({ done: { served, failures, sockets: sockets.size } });
  agent.destroy();
});
`;

/** `n` keep-alive HTTPS connections, each sending requests back to back until `stop()`. */
function startLoad(port: number, n: number) {
  const worker = new Worker(LOAD_WORKER, { eval: true, workerData: { port, ca: pki.ca.certPem, n } });
  const progress = { served: 0, sockets: 0 };
  let result: Promise<LoadResult> | undefined;
  const done = new Promise<LoadResult>((resolve, reject) => {
    worker.on('message', (m: { progress?: typeof progress; done?: LoadResult }) => {
      if (m.progress) Object.assign(progress, m.progress);
      if (m.done) resolve(m.done);
    });
    worker.on('error', reject);
    worker.on('exit', () => reject(new Error('load worker exited early')));
  });
  return {
    progress,
    stop(): Promise<LoadResult> {
      if (!result) {
        worker.postMessage('stop');
        const bound = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('load did not stop')), 10_000).unref(),
        );
        result = Promise.race([done, bound]).finally(() => void worker.terminate());
      }
      return result;
    },
  };
}

function tlsPort(e: Engine): number {
  const a = e.gh.addresses().find((x) => x.tls);
  assert.ok(a, 'a TLS listener is bound');
  return a.port;
}

/** Kubernetes secret volume: `tls.crt` → `..data/tls.crt`, `..data` → a timestamped dir swapped atomically. */
function secretVolume(dir: string) {
  mkdirSync(dir);
  let n = 0;
  const publish = (cert: string, key: string) => {
    const gen = `..gen_${n++}`;
    mkdirSync(join(dir, gen));
    writeFileSync(join(dir, gen, 'tls.crt'), cert);
    writeFileSync(join(dir, gen, 'tls.key'), key, { mode: 0o600 });
    symlinkSync(gen, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  return {
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    publish,
    link() {
      symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
      symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    },
  };
}

test('certificate rotation under 200 keep-alive connections: files then API, bad pairs refused, zero failures', async () => {
  const c1 = pki.server;
  const c2 = pki.issue('rot2', local);
  const c3 = pki.issue('rot3', local);
  const c4 = pki.issue('rot4', local);
  const vol = secretVolume(join(pki.dir, 'secret'));
  vol.publish(c1.chainPem, c1.keyPem);
  vol.link();
  const engine = await startEngine({
    log: { level: 'error' },
    servers: [tlsServer({ certificate: { certFile: vol.certFile, keyFile: vol.keyFile } })],
  });
  const port = tlsPort(engine);
  const load = startLoad(port, 200);
  try {
    // 200 handshakes at once take a few seconds on 2 cores; the ~3 s under test start once all are open.
    await until(() => load.progress.sockets >= 200 && load.progress.served >= 1000, 20_000, 'load to start');
    const started = Date.now();
    assert.equal(await peerSerial(port), serialOf(c1));

    // 1. Watched files, swapped like Kubernetes does.
    const t1 = Date.now();
    vol.publish(c2.chainPem, c2.keyPem);
    await until(async () => (await peerSerial(port)) === serialOf(c2), 5000, 'the file rotation');
    assert.equal(await peerSerial(port, { servername: 'localhost' }), serialOf(c2), 'SNI handshakes too');

    // 2. A mismatched pair in the files is refused, counted, and c2 keeps serving.
    const metricsBefore = await engine.gh.registry.getSingleMetricAsString(
      'gatehouse_certificate_reloads_total',
    );
    const failuresIn = (m: string) => Number(/result="failure"\} (\d+)/.exec(m)?.[1] ?? 'NaN');
    vol.publish(c3.chainPem, c2.keyPem);
    await until(
      () => engine.logs.some((l) => l.includes('certificate refused') && l.includes('key_mismatch')),
      5000,
      'the refusal of the mismatched files',
    );
    const metricsAfter = await engine.gh.registry.getSingleMetricAsString(
      'gatehouse_certificate_reloads_total',
    );
    assert.equal(failuresIn(metricsAfter), failuresIn(metricsBefore) + 1, 'reload failure counted');
    assert.equal(await peerSerial(port), serialOf(c2));

    // 3. Programmatic rotation.
    const t3 = Date.now();
    await engine.gh.updateCertificate(undefined, { cert: c3.chainPem, key: c3.keyPem });
    assert.equal(await peerSerial(port), serialOf(c3));
    assert.equal(await peerSerial(port, { servername: 'localhost' }), serialOf(c3));

    // 4. Bad programmatic pairs are refused with the store's error; c3 keeps serving.
    await assert.rejects(engine.gh.updateCertificate(undefined, { cert: c4.chainPem, key: c3.keyPem }), {
      name: 'CertificateError',
      code: 'key_mismatch',
    });
    await assert.rejects(
      engine.gh.updateCertificate(undefined, { cert: 'not a certificate', key: c4.keyPem }),
      {
        code: 'certificate_invalid',
      },
    );
    await assert.rejects(
      engine.gh.updateCertificate('no-such-server', { cert: c4.chainPem, key: c4.keyPem }),
    );
    assert.equal(await peerSerial(port), serialOf(c3));

    // Keep the load on for ~3 s in all, then stop.
    while (Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 50));
    const { served, failures, sockets } = await load.stop();

    assert.equal(sockets, 200, 'no connection was replaced');
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed requests`);
    const old = serialOf(c1);
    const onOldAfterFiles = served.filter((s) => s.serial === old && s.at > t1).length;
    const onOldAfterApi = served.filter((s) => s.serial === old && s.at > t3).length;
    assert.ok(served.length > 1500, `requests served: ${served.length}`);
    assert.ok(
      onOldAfterFiles > 100,
      `old connections kept working after the file rotation (${onOldAfterFiles})`,
    );
    assert.ok(onOldAfterApi > 100, `old connections kept working after the API rotation (${onOldAfterApi})`);
  } finally {
    await load.stop();
    await engine.close();
  }
});

test('reload() with new TLS settings swaps the certificate without closing the listener or open connections', async () => {
  const c1 = pki.issue('reload1', local);
  const c2 = pki.issue('reload2', local);
  const config = (t: ServerTlsConfig, port = 0): GatehouseConfig => ({
    log: { level: 'error' },
    servers: [{ listen: [{ address: '127.0.0.1', port, tls: true }], tls: t, routes: [okRoute] }],
  });
  const engine = await startEngine(config({ certificate: { cert: c1.chainPem, key: c1.keyPem } }));
  const port = tlsPort(engine);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.certPem });
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: pki.ca.certPem });
  const h2get = () =>
    new Promise<number>((resolve, reject) => {
      const s = session.request({ ':path': '/' });
      s.on('response', (h) => resolve(h[':status'] as number));
      s.on('error', reject);
      s.resume();
      s.end();
    });
  try {
    const first = await httpsGet(port, { agent });
    assert.equal(first.status, 200);
    assert.equal(await h2get(), 200);
    assert.equal(await peerSerial(port), serialOf(c1));

    // Same listener (port 0 again): new certificate in memory.
    await engine.gh.reload(config({ certificate: { cert: c2.chainPem, key: c2.keyPem } }));
    assert.equal(tlsPort(engine), port, 'same listener');
    assert.equal(await peerSerial(port), serialOf(c2), 'new handshakes get the new certificate');
    const second = await httpsGet(port, { agent });
    assert.equal(second.status, 200);
    assert.equal(second.socket, first.socket, 'the kept-alive HTTP/1.1 connection survived the reload');
    assert.equal(second.socket.getPeerCertificate().serialNumber, serialOf(c1));
    assert.equal(await h2get(), 200, 'the open HTTP/2 session survived the reload');

    // Pinned port and a TLS 1.3 minimum: new handshakes follow the new settings.
    await engine.gh.reload(
      config({ certificate: { cert: c1.chainPem, key: c1.keyPem }, minVersion: 'TLSv1.3' }, port),
    );
    assert.equal(tlsPort(engine), port);
    await assert.rejects(handshake(port, { maxVersion: 'TLSv1.2' }));
    assert.equal((await handshake(port, {})).protocol, 'TLSv1.3');
    assert.equal(await peerSerial(port), serialOf(c1));
    const third = await httpsGet(port, { agent });
    assert.equal(third.socket, first.socket, 'still the same connection');
    assert.equal(await h2get(), 200);
  } finally {
    session.destroy();
    agent.destroy();
    await engine.close();
  }
});

test('reload() that turns client certificates on makes new handshakes request one', async () => {
  const config = (mode: 'off' | 'required'): GatehouseConfig => ({
    log: { level: 'error' },
    servers: [
      tlsServer({
        certificate: { cert: pki.server.chainPem, key: pki.server.keyPem },
        clientCertificate: { mode, caFile: pki.caFile },
      }),
    ] as GatehouseConfig['servers'],
  });
  const engine = await startEngine(config('off'));
  const port = tlsPort(engine);
  try {
    assert.equal((await httpsGet(port)).status, 200);
    await engine.gh.reload(config('required'));
    assert.equal((await httpsGet(port)).status, 400, 'no certificate: 400');
    const withCert = await httpsGet(port, { cert: pki.client.chainPem, key: pki.client.keyPem });
    assert.equal(withCert.status, 200, `with a certificate: ${withCert.text}`);
  } finally {
    await engine.close();
  }
});

test('SNI selects the certificate by server name; unknown names and no SNI get the default', async () => {
  const a = pki.issue('sni-a', { commonName: 'a.test', dnsNames: ['a.test'] });
  const b = pki.issue('sni-b', { commonName: 'b.test', dnsNames: ['b.test', '*.b.test'] });
  const engine = await startEngine({
    log: { level: 'error' },
    servers: [
      tlsServer({
        certificate: { certFile: pki.server.chainFile, keyFile: pki.server.keyFile },
        sni: [
          { certFile: a.chainFile, keyFile: a.keyFile },
          { cert: b.chainPem, key: b.keyPem },
        ],
      }),
    ],
  });
  const port = tlsPort(engine);
  try {
    assert.equal(await peerSerial(port, { servername: 'a.test' }), serialOf(a));
    assert.equal(await peerSerial(port, { servername: 'b.test' }), serialOf(b));
    assert.equal(await peerSerial(port, { servername: 'x.b.test' }), serialOf(b));
    assert.equal(await peerSerial(port, { servername: 'A.TEST' }), serialOf(a), 'case-insensitive');
    assert.equal(await peerSerial(port, { servername: 'other.test' }), serialOf(pki.server));
    assert.equal(await peerSerial(port), serialOf(pki.server));
    // A full request with verification against the selected certificate.
    const r = await httpsGet(port, { servername: 'b.test', headers: { host: 'b.test' } });
    assert.equal(r.status, 200);
    assert.equal(r.socket.getPeerCertificate().serialNumber, serialOf(b));
    // The programmatic update replaces the default only; SNI certificates stay.
    const d2 = pki.issue('sni-default2', local);
    await engine.gh.updateCertificate(undefined, { cert: d2.chainPem, key: d2.keyPem });
    assert.equal(await peerSerial(port), serialOf(d2));
    assert.equal(await peerSerial(port, { servername: 'a.test' }), serialOf(a));
  } finally {
    await engine.close();
  }
});

test('two servers sharing a TLS port each present their own certificate by SNI (nginx server blocks)', async () => {
  const a = pki.issue('vh-a', { commonName: 'a.test', dnsNames: ['a.test'] });
  const b = pki.issue('vh-b', { commonName: 'b.test', dnsNames: ['b.test'] });
  const engine = await startEngine({
    log: { level: 'error' },
    servers: [
      tlsServer({ certificate: { cert: a.chainPem, key: a.keyPem } }, [okRoute], {
        serverNames: ['a.test'],
      }),
      tlsServer({ certificate: { cert: b.chainPem, key: b.keyPem } }, [okRoute], {
        serverNames: ['b.test'],
      }),
    ],
  });
  const port = tlsPort(engine);
  try {
    assert.equal(await peerSerial(port, { servername: 'a.test' }), serialOf(a));
    assert.equal(await peerSerial(port, { servername: 'b.test' }), serialOf(b));
  } finally {
    await engine.close();
  }
});

test('client-certificate modes behave as nginx; $ssl_client_escaped_cert reaches the upstream only with a certificate', async () => {
  const other = createCertificateAuthority({ commonName: 'Other CA', keyBits: 2048 });
  const untrusted = issueCertificate(other, { commonName: 'intruder', client: true, keyBits: 2048 });
  const expired = pki.issue('expired-client', {
    commonName: 'old-client',
    client: true,
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const upstream = await startUpstream();
  const clients = {
    none: {},
    valid: { cert: pki.client.chainPem, key: pki.client.keyPem },
    untrusted: { cert: untrusted.chainPem, key: untrusted.keyPem },
    expired: { cert: expired.chainPem, key: expired.keyPem },
  } as const;
  type Client = keyof typeof clients;
  const OK = 200;
  // nginx: 400 "No required SSL certificate was sent" / "The SSL certificate error"; optional_no_ca only
  // ignores an untrusted chain, not an expired certificate.
  const expected: Record<
    'off' | 'optional' | 'optional_no_ca' | 'required',
    Record<Client, number | string>
  > = {
    off: { none: OK, valid: OK, untrusted: OK, expired: OK },
    optional: {
      none: OK,
      valid: OK,
      untrusted: 'client_certificate_invalid',
      expired: 'client_certificate_expired',
    },
    optional_no_ca: { none: OK, valid: OK, untrusted: OK, expired: 'client_certificate_expired' },
    required: {
      none: 'client_certificate_required',
      valid: OK,
      untrusted: 'client_certificate_invalid',
      expired: 'client_certificate_expired',
    },
  };
  const route = proxyRoute(upstream.url, {
    setHeaders: [{ name: 'x-ms-edge-clientcert', value: '$ssl_client_escaped_cert' }],
  });
  try {
    for (const [mode, row] of Object.entries(expected) as Array<
      [keyof typeof expected, Record<Client, number | string>]
    >) {
      const engine = await startEngine({
        log: { level: 'error' },
        servers: [
          tlsServer(
            {
              certificate: { cert: pki.server.chainPem, key: pki.server.keyPem },
              clientCertificate: mode === 'off' ? { mode } : { mode, caFile: pki.caFile },
            },
            [route],
          ),
        ],
      });
      const port = tlsPort(engine);
      try {
        for (const [client, want] of Object.entries(row) as Array<[Client, number | string]>) {
          const what = `${mode}/${client}`;
          const before = upstream.seen.length;
          const r = await httpsGet(port, {
            ...clients[client],
            headers: { 'x-ms-edge-clientcert': 'forged' },
          });
          if (want === OK) {
            assert.equal(r.status, 200, `${what}: ${r.text}`);
            assert.equal(upstream.seen.length, before + 1, what);
            const header = upstream.seen.at(-1)!.headers['x-ms-edge-clientcert'];
            const sent = mode !== 'off' && client !== 'none';
            if (!sent)
              assert.equal(header, undefined, `${what}: no certificate, no header (and never the client's)`);
            else {
              assert.equal(typeof header, 'string', what);
              assert.doesNotMatch(header as string, /[\n ]/, `${what}: escaped`);
              const pem = decodeURIComponent(header as string);
              const leaf = clients[client] as { cert: string };
              assert.equal(pem, new X509Certificate(leaf.cert).toString(), `${what}: the client's leaf PEM`);
              assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
            }
          } else {
            assert.equal(r.status, 400, `${what}: ${r.text}`);
            const body = JSON.parse(r.text) as { error: string; status: number };
            assert.equal(body.error, want, what);
            assert.equal(body.status, 400);
            assert.equal(upstream.seen.length, before, `${what}: not forwarded`);
          }
        }
      } finally {
        await engine.close();
      }
    }
  } finally {
    await upstream.close();
  }
});

test('client certificates over HTTP/2: required mode answers 400 JSON on the stream, the escaped PEM is passed on', async () => {
  const upstream = await startUpstream();
  const engine = await startEngine({
    log: { level: 'error' },
    servers: [
      tlsServer(
        {
          certificate: { cert: pki.server.chainPem, key: pki.server.keyPem },
          clientCertificate: { mode: 'required', caFile: pki.caFile },
        },
        [
          proxyRoute(upstream.url, {
            setHeaders: [{ name: 'x-ms-edge-clientcert', value: '$ssl_client_escaped_cert' }],
          }),
        ],
      ),
    ],
  });
  const port = tlsPort(engine);
  const get = (opts: http2.SecureClientSessionOptions) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { ca: pki.ca.certPem, ...opts });
      session.on('error', reject);
      const s = session.request({ ':path': '/h2' });
      let status = 0;
      let body = '';
      s.setEncoding('utf8');
      s.on('response', (h) => (status = h[':status'] as number));
      s.on('data', (c: string) => (body += c));
      s.on('end', () => (session.close(), resolve({ status, body })));
      s.on('error', reject);
      s.end();
    });
  try {
    const none = await get({});
    assert.equal(none.status, 400);
    assert.equal((JSON.parse(none.body) as { error: string }).error, 'client_certificate_required');
    const ok = await get({ cert: pki.client.chainPem, key: pki.client.keyPem });
    assert.equal(ok.status, 200, ok.body);
    const header = upstream.seen.at(-1)!.headers['x-ms-edge-clientcert'] as string;
    assert.equal(decodeURIComponent(header), new X509Certificate(pki.client.certPem).toString());
  } finally {
    await engine.close();
    await upstream.close();
  }
});

test('TLS version and cipher settings take effect on the listener', async () => {
  const cert = { cert: pki.server.chainPem, key: pki.server.keyPem };
  const tls12 = await startEngine({
    log: { level: 'error' },
    servers: [tlsServer({ certificate: cert, maxVersion: 'TLSv1.2' })],
  });
  const tls13 = await startEngine({
    log: { level: 'error' },
    servers: [tlsServer({ certificate: cert, minVersion: 'TLSv1.3' })],
  });
  const cipher = await startEngine({
    log: { level: 'error' },
    servers: [
      tlsServer({ certificate: cert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }),
    ],
  });
  const dflt = await startEngine({ log: { level: 'error' }, servers: [tlsServer({ certificate: cert })] });
  try {
    // TLS 1.2-only listener.
    await assert.rejects(
      handshake(tlsPort(tls12), { minVersion: 'TLSv1.3' }),
      'a TLS 1.3-only client is refused',
    );
    assert.equal((await handshake(tlsPort(tls12), {})).protocol, 'TLSv1.2');
    // TLS 1.3-only listener.
    await assert.rejects(
      handshake(tlsPort(tls13), { maxVersion: 'TLSv1.2' }),
      'a TLS 1.2-only client is refused',
    );
    assert.equal((await handshake(tlsPort(tls13), {})).protocol, 'TLSv1.3');
    // Cipher list.
    assert.equal((await handshake(tlsPort(cipher), {})).cipher, 'ECDHE-RSA-AES256-GCM-SHA384');
    await assert.rejects(
      handshake(tlsPort(cipher), { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
      'a cipher not listed is refused',
    );
    // Defaults: TLS 1.2 minimum (nginx 1.23+), TLS 1.3 preferred, no TLS 1.1.
    assert.equal((await handshake(tlsPort(dflt), {})).protocol, 'TLSv1.3');
    await assert.rejects(
      handshake(tlsPort(dflt), { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    );
    await assert.rejects(
      handshake(tlsPort(dflt), { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' }),
      'no CBC/static RSA by default',
    );
    // The listener still serves requests after refused handshakes.
    assert.equal((await httpsGet(tlsPort(tls12))).status, 200);
  } finally {
    await Promise.all([tls12.close(), tls13.close(), cipher.close(), dflt.close()]);
  }
});
