// Certificates of the running module: the server certificate is renewed at 80 % of its lifetime and
// the trust bundle is polled, both swapped in under traffic with zero failed requests; the module
// starts without a workload API (not ready, retrying) and serves once it appears.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IotModule } from '../../packages/iot-module/src/index.js';
import { createModuleLogger } from '../../packages/iot-module/src/runtime/module-logger.js';
import {
  freePort,
  request,
  startDevice,
  startModule,
  underTraffic,
  type Device,
  NEEDS_PORT_443,
} from './harness.js';

function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
          }),
        );
      })
      .on('error', reject);
  });
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('iot-module run: certificates', { skip: NEEDS_PORT_443 }, () => {
  const cleanup: Array<() => Promise<void>> = [];
  // Each close is bounded: after a failed assertion a close that never settles must not hold the
  // whole run (seen once: the file's process stayed up after its tests had reported).
  after(async () => {
    for (const c of cleanup.reverse())
      await Promise.race([c(), new Promise<void>((r) => setTimeout(r, 10_000).unref())]);
  });

  it('renews the server certificate at 80 % of its lifetime and follows a trust-bundle rotation, under traffic, with zero failures', async () => {
    const gateway = '127.27.2.1';
    const device: Device = await startDevice({
      deviceId: 'dev2',
      gateway,
      edgeHubAddress: '127.27.2.2',
      // Renewal at 80 % leaves 3 s before expiry: room for key generation on a loaded machine.
      serverCertLifetimeMs: 15_000,
    });
    cleanup.push(() => device.close());
    const port = await freePort(gateway);
    // Before the module starts: its first certificate is issued during start-up, which takes longer
    // on a loaded machine, so a clock started after it would see the renewal early.
    const started = Date.now();
    const module = await startModule(
      device,
      { NGINX_DEFAULT_PORT: String(port) },
      { hosts: { edgehub: '127.27.2.2' } },
    );
    cleanup.push(() => module.close());
    const oldCa = device.workload.ca.certPem;
    const serials = new Set<string>();
    let ca = device.workload.trustBundle;
    const { statuses, errors } = await underTraffic(
      async () => {
        const res = await request(`https://${gateway}:${port}/devices/dev2`, { ca });
        if (res.serial) serials.add(res.serial);
        return res;
      },
      async (answered) => {
        await until('a renewal', () => module.counters.certificateRotations >= 1, 30_000);
        // Not before 80 % of the lifetime (the first certificate's validity began 1 s before issue).
        assert.ok(Date.now() - started >= 0.8 * 15_000 - 1500, `renewed after ${Date.now() - started} ms`);
        // The edge CA changes: the bundle carries both (clients are given the new one first).
        device.workload.rotateCa({ keepOld: true });
        ca = device.workload.trustBundle;
        await until('the new trust bundle', () => module.counters.trustBundleUpdates >= 1);
        const rotations = module.counters.certificateRotations;
        await until(
          'a certificate from the new CA',
          () => module.counters.certificateRotations > rotations,
          30_000,
        );
        // Requests after the last swap see the newest certificate.
        const after = answered();
        await until('requests after the last renewal', () => answered() >= after + 6);
      },
    );
    assert.deepEqual(errors, []);
    assert.ok(statuses.length > 20, `${statuses.length} requests`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.ok(serials.size >= 3, `${serials.size} certificates seen`);
    // The module now serves a certificate that only the new CA verifies.
    const res = await request(`https://${gateway}:${port}/devices/dev2`, { ca: device.workload.ca.certPem });
    assert.equal(res.status, 200);
    assert.notEqual(device.workload.ca.certPem, oldCa);
    assert.ok(module.workload.calls.trustBundle >= 2);
  });

  it('starts without a workload API: not ready (503 naming why), then serving once it answers', async () => {
    const gateway = '127.27.3.1';
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-late-workload-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'workload.sock');
    const port = await freePort(gateway);
    const adminPort = await freePort('127.0.0.1');
    const logs: string[] = [];
    const env = {
      IOTEDGE_DEVICEID: 'dev3',
      IOTEDGE_MODULEID: 'apiproxy',
      IOTEDGE_MODULEGENERATIONID: 'gen1',
      IOTEDGE_GATEWAYHOSTNAME: gateway,
      IOTEDGE_IOTHUBHOSTNAME: 'test-hub.azure-devices.net',
      IOTEDGE_WORKLOADURI: `unix://${socketPath}`,
      IOTEDGE_AUTHSCHEME: 'sasToken',
      NGINX_DEFAULT_PORT: String(port),
    };
    const module = new IotModule({
      env,
      listenAddress: gateway,
      tokenServerPort: 0,
      admin: { port: adminPort },
      backoff: { initialMs: 50, maxMs: 300 },
      hosts: { edgehub: '127.27.3.2' },
      logger: createModuleLogger((l) => void logs.push(l)),
    });
    cleanup.push(() => module.close());
    const started = module.start();
    await until('the admin listener', () => module.notReadyReason?.includes('workload') === true);
    const notReady = await getJson(adminPort, '/readyz');
    assert.equal(notReady.status, 503);
    assert.match(String(notReady.body.reason), /workload API/);
    assert.equal((await getJson(adminPort, '/healthz')).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(
      logs.some((l) => l.includes('workload API: trust bundle failed')),
      'retries are logged',
    );
    const device = await startDevice({ deviceId: 'dev3', gateway, edgeHubAddress: '127.27.3.2', socketPath });
    cleanup.push(() => device.close());
    await started;
    const ready = await getJson(adminPort, '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.ready, true);
    const res = await request(`https://${gateway}:${port}/devices/dev3`, { ca: device.workload.trustBundle });
    assert.equal(res.status, 200);
    const metrics = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.match(metrics, /^gatehouse_iot_ready 1$/m);
    assert.match(metrics, /gatehouse_iot_workload_calls_total\{call="server_certificate"\} 1/);
    assert.match(metrics, /gatehouse_requests_total/);
    for (const line of logs) assert.doesNotMatch(line, /SharedAccessSignature|PRIVATE KEY/);
  });
});
