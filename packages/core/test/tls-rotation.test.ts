// Certificate rotation under load on a bare https server: 200 keep-alive connections send requests
// continuously while the certificate is rotated by file (atomic rename), refused once (bad pair), and
// rotated by the API. Nothing may fail; new handshakes must present the new serial.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '../src/observability/logger.js';
import { Registry } from 'prom-client';
import { createServerTls, issueCertificate, type CertificateStore } from '../src/tls/index.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());

function waitFor(store: CertificateStore, event: 'updated' | 'rejected', timeoutMs = 5000): Promise<unknown> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
  return once(store, event, { signal: ac.signal }).finally(() => clearTimeout(timer));
}

/** Serial presented to a fresh handshake (no session reuse), with or without SNI. */
async function freshSerial(port: number, servername?: string): Promise<string> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: pki.ca.certPem,
    servername,
    rejectUnauthorized: true,
  });
  await once(socket, 'secureConnect');
  const serial = socket.getPeerCertificate().serialNumber;
  // end(), not destroy(): the client's Finished must reach the server for it to count the handshake.
  socket.end();
  await once(socket, 'close');
  return serial;
}

function replaceAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

test(
  'rotation under 200 keep-alive connections: zero failures, new handshakes see the new serial',
  { timeout: 120_000 },
  async () => {
    const dir = pki.dir;
    const certFile = join(dir, 'live.crt');
    const keyFile = join(dir, 'live.key');
    writeFileSync(certFile, pki.server.certPem);
    writeFileSync(keyFile, pki.server.keyPem);
    const runtime = await createServerTls(
      { certificate: { certFile, keyFile } },
      {
        logger: createLogger({ level: 'silent' }),
        registry: new Registry(),
        debounceMs: 50,
        pollIntervalMs: 1000,
      },
    );
    const server = https.createServer(runtime.serverOptions, (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    runtime.attach(server);
    // The test counts requests on connections opened before the rotations: on a loaded machine a
    // stalled request loop must not see them closed by node's default 5 s keep-alive timeout.
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    let serverHandshakes = 0;
    server.on('secureConnection', () => serverHandshakes++);

    // Issued up front: key generation blocks the event loop, the load must not pause for it.
    const leaf = () =>
      issueCertificate(pki.ca, {
        commonName: 'localhost',
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      });
    const [next1, bad, next2] = [leaf(), leaf(), leaf()];

    const agent = new https.Agent({ keepAlive: true, maxSockets: 200, ca: pki.ca.certPem });
    const original = pki.server.serialHex.toUpperCase();
    const socketSerial = new Map<unknown, string>();
    let ok = 0;
    const failures: string[] = [];
    let phase: 'before' | 'after' = 'before';
    let oldSerialRequestsAfterRotations = 0;
    // Workers stop 1 s after the last rotation (bounded at 20 s in any case).
    let deadline = Date.now() + 20_000;

    const request = () =>
      new Promise<void>((resolve) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/', agent, method: 'GET' }, (res) => {
          const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber;
          socketSerial.set(res.socket, serial);
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 200 && body === 'ok') ok++;
            else failures.push(`status ${res.statusCode}`);
            if (phase === 'after' && serial === original) oldSerialRequestsAfterRotations++;
            resolve();
          });
        });
        req.on('error', (err) => {
          failures.push(err.message);
          resolve();
        });
        req.end();
      });
    // Each worker opens its connection first; the loops start once all 200 are up, so the handshakes
    // do not compete with the request loops of the connections already open (client and server share a thread).
    let opened = 0;
    let allOpen!: () => void;
    const barrier = new Promise<void>((r) => (allOpen = r));
    const worker = async () => {
      await request();
      if (++opened === 200) allOpen();
      await Promise.race([barrier, new Promise((r) => setTimeout(r, 20_000))]);
      while (Date.now() < deadline) await request();
    };
    const workers = Array.from({ length: 200 }, worker);

    try {
      // All 200 connections established and serving (bounded wait).
      await Promise.race([barrier, new Promise((r) => setTimeout(r, 20_000))]);
      assert.equal(socketSerial.size, 200);
      await new Promise((r) => setTimeout(r, 300)); // the loops are running
      const handshakesBefore = serverHandshakes;
      assert.equal(await freshSerial(port), original);

      // 1. rotate by file (atomic rename of both files)
      const updated = waitFor(runtime.store, 'updated');
      replaceAtomically(certFile, next1.certPem);
      replaceAtomically(keyFile, next1.keyPem);
      await updated;
      assert.equal(
        await freshSerial(port),
        next1.serialHex.toUpperCase(),
        'no SNI → default context (setSecureContext)',
      );
      assert.equal(
        await freshSerial(port, 'localhost'),
        next1.serialHex.toUpperCase(),
        'SNI → store context',
      );

      // 2. a bad pair (new certificate, old key) is refused; the previous one keeps serving
      const rejected = waitFor(runtime.store, 'rejected');
      replaceAtomically(certFile, bad.certPem);
      await rejected;
      assert.equal(await freshSerial(port), next1.serialHex.toUpperCase());

      // 3. rotate through the API (the iot-module's path)
      const result = await runtime.store.update(runtime.defaultName, {
        cert: next2.certPem,
        key: next2.keyPem,
      });
      assert.equal(result.ok, true);
      assert.equal(await freshSerial(port), next2.serialHex.toUpperCase());
      assert.equal(await freshSerial(port, 'localhost'), next2.serialHex.toUpperCase());
      phase = 'after';
      deadline = Math.min(deadline, Date.now() + 1000);

      await Promise.all(workers);
      assert.deepEqual(failures, []);
      assert.ok(ok > 1000, `only ${ok} requests`);
      assert.ok(
        oldSerialRequestsAfterRotations > 0,
        'connections opened before the rotations still serve requests',
      );
      assert.equal(socketSerial.size, 200, 'the 200 client connections were never replaced');
      assert.equal(
        serverHandshakes - handshakesBefore,
        6,
        'only the 6 probe handshakes happened during the rotations',
      );
      assert.ok([...socketSerial.values()].every((s) => s === original));
    } finally {
      await Promise.allSettled(workers);
      agent.destroy();
      runtime.close();
      server.closeAllConnections();
      server.close();
    }
  },
);
