// The IoT module image's entrypoint run on this host as the image runs it (root moved to a
// temporary directory): `iot-module run` with the IoT Edge environment of a device whose workload
// API, MQTT hub and edgeHub are the emulators of test/iot. Skips, saying why, while `run` or the
// emulators are not in the tree.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { IOT_ENTRYPOINT, REPO, tempRoot } from './run-entrypoint.js';

const APP = join(REPO, 'packages/iot-module');
const HARNESS = join(REPO, 'test/iot/harness.ts');
// Loopback addresses of their own, apart from test/iot's 127.27.x.
const GATEWAY = '127.28.1.1';
const EDGEHUB = '127.28.1.2';

// The part of test/iot/harness.ts used here (imported by path: it arrives with `iot-module run`).
interface Device {
  env: Record<string, string>;
  workload: { trustBundle: string };
  edgeHub: { calls: { identity?: string; authError?: string }[] };
  close(): Promise<void>;
}
interface Harness {
  MODULE_ID: string;
  freePort(host: string): Promise<number>;
  startDevice(opts: { deviceId: string; gateway: string; edgeHubAddress: string }): Promise<Device>;
}

function skipReason(): string | false {
  const cli = join(APP, 'dist/cli/main.js');
  if (!existsSync(cli)) return 'packages/iot-module is not built (pnpm build)';
  if (readFileSync(cli, 'utf8').includes('is not available yet'))
    return '`iot-module run` is not in this build yet';
  if (!existsSync(HARNESS)) return 'test/iot/harness.ts (the IoT Edge emulators) is not in this tree';
  return false;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function waitForPort(
  host: string,
  port: number,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`entrypoint exited ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.on('connect', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after 30 s:\n${output()}`);
}

describe('iot-module entrypoint on the host, against the IoT Edge emulators', { skip: skipReason() }, () => {
  it('serves the default template from the root with the workload certificate, edgeHub sees the module token; SIGTERM → 143', async () => {
    const harness = (await import(pathToFileURL(HARNESS).href)) as Harness;
    const device = await harness.startDevice({
      deviceId: 'dev-image',
      gateway: GATEWAY,
      edgeHubAddress: EDGEHUB,
    });
    const root = tempRoot('iot-e2e');
    copyFileSync(join(APP, 'templates/nginx_default_config.conf'), join(root, 'nginx_default_config.conf'));
    const port = await harness.freePort(GATEWAY);
    let output = '';
    const child = spawn(process.execPath, [IOT_ENTRYPOINT], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        GATEHOUSE_CONTAINER_ROOT: root,
        GATEHOUSE_APP_DIR: APP,
        ...device.env,
        NGINX_DEFAULT_PORT: String(port),
        // In a container these are the defaults' business (0.0.0.0, Docker's DNS for edgehub).
        GATEHOUSE_LISTEN_ADDRESS: GATEWAY,
        GATEHOUSE_HOSTS: `edgehub=${EDGEHUB}`,
        GATEHOUSE_TOKEN_SERVER_PORT: '0',
        GATEHOUSE_ADMIN_PORT: '0',
      },
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await waitForPort(GATEWAY, port, child, () => output);
      const res = await get(
        `https://${GATEWAY}:${port}/devices/dev-image/modules/m1?api-version=2020-09-30`,
        device.workload.trustBundle,
      );
      assert.equal(res.status, 200, res.body);
      assert.equal(
        device.edgeHub.calls.at(-1)?.identity,
        `dev-image/${harness.MODULE_ID}`,
        device.edgeHub.calls.at(-1)?.authError,
      );
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 143, output);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await device.close();
    }
  });
});
