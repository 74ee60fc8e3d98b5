// `iot-module run` end to end on one device: the real Azure IoT SDK connects to the MQTT hub emulator
// with a SAS token signed by the workload API emulator; the module serves the default template with
// a workload-issued certificate; the twin reconfigures it (base64, gzip+base64, null, invalid) under
// traffic; the token service makes one sign call for 100 concurrent edgeHub requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readDefaultTemplate, type IotModule } from '../../packages/iot-module/src/index.js';
import {
  freePort,
  MODULE_ID,
  request,
  startDevice,
  startModule,
  underTraffic,
  type Device,
  NEEDS_PORT_443,
} from './harness.js';

const GATEWAY = '127.27.1.1';

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const EDGEHUB = '127.27.1.2';

describe('iot-module run (one device)', { skip: NEEDS_PORT_443 }, () => {
  let device: Device;
  let module: IotModule;
  let base: string;
  const id = `dev1/${MODULE_ID}`;

  before(async () => {
    device = await startDevice({ deviceId: 'dev1', gateway: GATEWAY, edgeHubAddress: EDGEHUB });
    const port = await freePort(GATEWAY);
    base = `https://${GATEWAY}:${port}`;
    module = await startModule(device, { NGINX_DEFAULT_PORT: String(port) }, { hosts: { edgehub: EDGEHUB } });
  });

  after(async () => {
    await module?.close();
    await device?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    request(`${base}${path}`, { ca: device.workload.trustBundle, headers });

  it('serves with the workload-issued certificate and reports its state in the twin', async () => {
    const res = await get('/devices/dev1/modules/m1?api-version=2020-09-30');
    assert.equal(res.status, 200, res.body.toString());
    const reported = await device.hub.waitReported(id, (r) => typeof r.configHash === 'string');
    assert.equal(reported.status, 'running');
    assert.equal(reported.configHash, module.configState?.hash);
    assert.equal(reported.configSource, 'default');
    assert.equal(reported.lastError, undefined); // reported null deletes the property (twin semantics)
    assert.equal(typeof reported.moduleVersion, 'string');
    assert.ok(Date.parse(String(reported.serverCertificateExpiry)) > Date.now());
  });

  it('100 concurrent edgeHub requests make one sign call; edgeHub sees the module SAS token', async () => {
    const before = module.workload.calls.sign;
    // A fresh token source state: the module's cache may hold one from the previous test.
    const fresh = before === 0;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => get(`/devices/dev1/modules/m${i}?api-version=2020-09-30`)),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.ok(
      module.workload.calls.sign - before <= (fresh ? 1 : 0),
      `sign calls: ${module.workload.calls.sign - before}`,
    );
    assert.equal(module.workload.calls.sign, 1);
    const calls = device.edgeHub.calls.slice(-100);
    for (const c of calls) {
      assert.equal(c.identity, id, c.authError);
      assert.equal(c.clientCert, undefined);
    }
  });

  it('a caller-supplied Authorization wins over the module token', async () => {
    const res = await get('/devices/dev1/modules/x', {
      authorization: 'SharedAccessSignature sr=other&sig=x&se=1',
    });
    assert.equal(res.status, 401); // the fake edgeHub refuses that token: it was forwarded as sent
    assert.equal(device.edgeHub.calls.at(-1)?.authorization, 'SharedAccessSignature sr=other&sig=x&se=1');
  });

  it('a desired proxy_config (gzip+base64) is applied under traffic with zero failed requests', async () => {
    const template = readDefaultTemplate().replace(
      'location ~^/devices|twins/ {',
      'location = /hello { return 200 "configured by twin"; }\n        location ~^/devices|twins/ {',
    );
    assert.notEqual(template, readDefaultTemplate());
    const value = gzipSync(Buffer.from(template)).toString('base64');
    assert.ok(value.length < 4096, `gzip+base64 is ${value.length} characters`);
    const oldHash = module.configState?.hash;
    const { statuses, errors } = await underTraffic(
      () => get('/devices/dev1/modules/load'),
      async (answered) => {
        // Requests before, during and after the swap, however slow the machine is.
        await until(() => answered() >= 6);
        device.hub.patchDesired(id, { proxy_config: value });
        await device.hub.waitReported(id, (r) => r.configHash !== oldHash && r.configSource === 'twin');
        const swapped = answered();
        await until(() => answered() >= swapped + 6);
      },
    );
    assert.deepEqual(errors, []);
    assert.ok(statuses.length >= 12, `only ${statuses.length} requests`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    const hello = await get('/hello');
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), 'configured by twin');
  });

  it('an invalid proxy_config is rejected and reported with its line; the running one keeps serving', async () => {
    const running = module.configState?.hash;
    const bad = readDefaultTemplate().replace(
      'proxy_buffers 32 160k;',
      'proxy_buffers 32 160k\n    bogus_directive on;',
    );
    device.hub.patchDesired(id, { proxy_config: Buffer.from(bad).toString('base64') });
    const reported = await device.hub.waitReported(
      id,
      (r) => r.lastError !== null && r.lastError !== undefined,
    );
    const lastError = reported.lastError as { message: string; line: number | null };
    assert.equal(typeof lastError.line, 'number');
    assert.match(lastError.message, /proxy_buffers|bogus_directive|unexpected|unknown/i);
    assert.equal(reported.configHash, running);
    assert.equal(module.configState?.hash, running);
    assert.equal((await get('/hello')).status, 200);

    device.hub.patchDesired(id, { proxy_config: 'not base64!' });
    const r2 = await device.hub.waitReported(id, (r) =>
      /base64/.test(String((r.lastError as { message?: string })?.message)),
    );
    assert.equal(r2.configHash, running);
  });

  it('null reverts to the default template', async () => {
    device.hub.patchDesired(id, { proxy_config: null });
    const reported = await device.hub.waitReported(
      id,
      (r) => r.configSource === 'default' && r.lastError == null,
    );
    assert.equal(reported.status, 'running');
    assert.equal((await get('/hello')).status, 404);
    assert.equal((await get('/devices/dev1')).status, 200);
  });

  it('re-reads the twin after a reconnect (a patch sent while offline is not lost)', async () => {
    const template = readDefaultTemplate().replace(
      'location ~^/devices|twins/ {',
      'location = /offline { return 200 "set while offline"; }\n        location ~^/devices|twins/ {',
    );
    device.hub.disconnectAll();
    // Changed in the hub while the module is not connected: no PATCH reaches it.
    const t = device.hub.twin(id);
    t.desired.proxy_config = Buffer.from(template).toString('base64');
    t.desired.$version++;
    await device.hub.waitReported(id, (r) => r.configSource === 'twin', 20_000);
    assert.equal((await get('/offline')).body.toString(), 'set while offline');
  });
});
