// `iot-module run` as a process whose twin goes the SDK's `EdgeHubConnectionString` way
// (ModuleClient.fromEnvironment takes it when the variable is set: the key from the connection string,
// the hub's CA from EdgeModuleCACertificateFile) rather than the workload API's sign call. The
// connection string's GatewayHostName is the MQTT hub emulator, while IOTEDGE_GATEWAYHOSTNAME names an
// address where nothing listens: only the connection-string path can reach the twin. The workload API
// still gives the server certificate.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDefaultTemplate } from '../../packages/iot-module/src/index.js';
import { teeChildOutput } from '../helpers/log-tee.js';
import {
  freePort,
  HUB_HOSTNAME,
  MODULE_ID,
  NEEDS_PORT_443,
  request,
  startDevice,
  type Device,
} from './harness.js';

const CLI = join(import.meta.dirname, '../../packages/iot-module/src/cli/main.ts');
const GATEWAY = '127.27.41.1';
const EDGEHUB = '127.27.41.2';
/** IOTEDGE_GATEWAYHOSTNAME: no hub here, so the workload-API path of the SDK cannot connect. */
const NO_HUB = '127.27.41.9';

describe('iot-module run with EdgeHubConnectionString', { skip: NEEDS_PORT_443 }, () => {
  let device: Device;
  let child: ChildProcess;
  let dir: string;
  let base: string;
  let output = '';
  const id = `dev-cs/${MODULE_ID}`;

  before(async () => {
    device = await startDevice({ deviceId: 'dev-cs', gateway: GATEWAY, edgeHubAddress: EDGEHUB });
    dir = mkdtempSync(join(tmpdir(), 'iot-cs-'));
    const caFile = join(dir, 'edge-ca.pem');
    writeFileSync(caFile, device.workload.trustBundle);
    const port = await freePort(GATEWAY);
    base = `https://${GATEWAY}:${port}`;
    const connectionString =
      `HostName=${HUB_HOSTNAME};GatewayHostName=${GATEWAY};DeviceId=dev-cs;ModuleId=${MODULE_ID};` +
      `SharedAccessKey=${device.workload.keyOf(MODULE_ID)}`;
    child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CLI, 'run', '--conf-dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          ...device.env,
          IOTEDGE_GATEWAYHOSTNAME: NO_HUB,
          EdgeHubConnectionString: connectionString,
          EdgeModuleCACertificateFile: caFile,
          NGINX_DEFAULT_PORT: String(port),
          GATEHOUSE_LISTEN_ADDRESS: GATEWAY,
          GATEHOUSE_HOSTS: `edgehub=${EDGEHUB}`,
          GATEHOUSE_TOKEN_SERVER_PORT: '0',
          GATEHOUSE_ADMIN_PORT: '0',
        },
      },
    );
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (c: Buffer) => {
        teeChildOutput(c);
        output += c.toString();
      });
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await device?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports its state in the twin and applies a desired proxy_config patch', async () => {
    const reported = await device.hub
      .waitReported(id, (r) => typeof r.configHash === 'string', 30_000)
      .catch((err: Error) => assert.fail(`${err.message}\n${output}`));
    assert.equal(reported.status, 'running');
    assert.equal(reported.configSource, 'default');
    // The SDK connected with the connection string's key: no sign call to the workload API yet (the
    // token service makes the first one for the edgeHub request below).
    assert.ok(device.hub.counters.connects >= 1);
    assert.equal(device.workload.counters.sign, 0);
    const res = await request(`${base}/devices/dev-cs/modules/m1?api-version=2020-09-30`, {
      ca: device.workload.trustBundle,
    });
    assert.equal(res.status, 200, res.body.toString());

    const defaultHash = reported.configHash; // `reported` is the hub's live document
    const template = readDefaultTemplate().replace(
      'location ~^/devices|twins/ {',
      'location = /hello { return 200 "configured by twin"; }\n        location ~^/devices|twins/ {',
    );
    device.hub.patchDesired(id, { proxy_config: Buffer.from(template).toString('base64') });
    const patched = await device.hub.waitReported(
      id,
      (r) => r.configSource === 'twin' && r.configHash !== defaultHash,
      30_000,
    );
    assert.equal(patched.lastError, undefined);
    const hello = await request(`${base}/hello`, { ca: device.workload.trustBundle });
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), 'configured by twin');
  });
});
