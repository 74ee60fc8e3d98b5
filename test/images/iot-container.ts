// The IoT module image run by podman against the IoT Edge emulators of test/iot, as edgeAgent runs it:
// the workload API's unix socket bind-mounted at /var/run/iotedge/workload.sock, the IOTEDGE_*
// environment, and the seed's top-layer settings (DOCKER_REQUEST_ROUTE_ADDRESS=registry:<port>,
// NGINX_DEFAULT_PORT). --network=host stands in for the module network: the MQTT hub emulator (the
// device's edgeHub MQTT side), the edgeHub HTTPS fake and the registry fake are on host loopback.
// Used by scripts/images/test-images.mjs; podman is called asynchronously because the emulators answer
// from this process meanwhile.
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { readDefaultTemplate } from '../../packages/iot-module/src/index.js';
import { startRegistry } from '../emulators/iot/registry.js';
import { freePort, MODULE_ID, NEEDS_PORT_443, request, startDevice } from '../iot/harness.js';

const execFileAsync = promisify(execFile);

const GATEWAY = '127.28.5.1';
const EDGEHUB = '127.28.5.2';
const DEVICE = 'dev-podman';
const SOCKET = '/var/run/iotedge/workload.sock';
const UID = '13624';

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function podman(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileAsync('podman', args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await delay(250);
  }
}

/** Why the emulators cannot run here (the device's edgeHub fake binds port 443), or false. */
export const iotContainerUnavailable: string | false = NEEDS_PORT_443;

/** Runs the container, checks it, stops it; resolves with a one-line summary or throws naming the check. */
export async function runIotContainer(image: string): Promise<string> {
  const registry = await startRegistry();
  const device = await startDevice({ deviceId: DEVICE, gateway: GATEWAY, edgeHubAddress: EDGEHUB });
  const name = `gatehouse-iot-${process.pid}`;
  const id = `${DEVICE}/${MODULE_ID}`;
  try {
    // The module's user (uid 13624) must be able to connect: edgelet's socket is writable by modules.
    chmodSync(device.workload.socketPath, 0o666);
    const port = await freePort('127.0.0.1');
    const admin = await freePort('127.0.0.1');
    const tokenPort = await freePort('127.0.0.1');
    const env: Record<string, string> = {
      ...device.env,
      IOTEDGE_WORKLOADURI: `unix://${SOCKET}`,
      // The seed's top layer (its port moved off 8000: host network).
      DOCKER_REQUEST_ROUTE_ADDRESS: `registry:${registry.port}`,
      NGINX_DEFAULT_PORT: String(port),
      // What Docker's module network would give: names of the other modules.
      GATEHOUSE_HOSTS: `edgehub=${EDGEHUB},registry=127.0.0.1`,
      GATEHOUSE_ADMIN_PORT: String(admin),
      GATEHOUSE_TOKEN_SERVER_PORT: String(tokenPort),
    };
    await podman('rm', '-f', name);
    const run = await podman(
      'run',
      '-d',
      '--name',
      name,
      '--network=host',
      '-v',
      `${device.workload.socketPath}:${SOCKET}`,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      image,
    );
    expect(run.code === 0, `podman run: ${run.stderr}`);
    const logs = async (): Promise<string> => {
      const l = await podman('logs', name);
      return (l.stdout + l.stderr).split('\n').slice(-30).join('\n');
    };
    try {
      await until(
        'admin /readyz 200',
        async () => ((await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200 ? true : undefined),
        60_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; container log:\n${await logs()}`);
    }
    const health = await podman('healthcheck', 'run', name);
    expect(health.code === 0, `HEALTHCHECK: ${health.stdout}${health.stderr}`);
    const user = await podman('exec', name, 'id', '-u');
    expect(user.stdout.trim() === UID, `user ${user.stdout}`);

    const base = `https://127.0.0.1:${port}`;
    const ca = device.workload.trustBundle;
    const v2 = await request(`${base}/v2/`, { ca });
    expect(v2.status === 200, `GET /v2/ → ${v2.status} ${v2.body.toString()}`);
    expect(registry.calls.at(-1)?.url === '/v2/', `registry saw ${registry.calls.at(-1)?.url}`);
    const hub = await request(`${base}/devices/${DEVICE}/modules/m1?api-version=2020-09-30`, { ca });
    expect(hub.status === 200, `GET /devices/… → ${hub.status} ${hub.body.toString()}`);
    const call = device.edgeHub.calls.at(-1);
    expect(call?.identity === id, `edgeHub identity ${call?.identity}: ${call?.authError}`);

    const reported = await device.hub.waitReported(id, (r) => typeof r.configHash === 'string', 30_000);
    expect(reported.status === 'running', `reported status ${String(reported.status)}`);
    const defaultHash = reported.configHash;
    const template = readDefaultTemplate().replace(
      'location ~^/devices|twins/ {',
      'location = /hello { return 200 "configured by twin"; }\n        location ~^/devices|twins/ {',
    );
    device.hub.patchDesired(id, { proxy_config: Buffer.from(template).toString('base64') });
    await device.hub.waitReported(
      id,
      (r) => r.configSource === 'twin' && r.configHash !== defaultHash && r.lastError == null,
      30_000,
    );
    const hello = await request(`${base}/hello`, { ca });
    expect(hello.body.toString() === 'configured by twin', `/hello → ${hello.status}`);

    const stopAt = Date.now();
    const stop = await podman('stop', '-t', '10', name);
    const seconds = (Date.now() - stopAt) / 1000;
    expect(stop.code === 0 && seconds < 9, `podman stop: ${seconds} s ${stop.stderr}`);
    const state = (
      JSON.parse((await podman('inspect', name)).stdout) as Array<{ State: { ExitCode: number } }>
    )[0]!.State;
    expect(state.ExitCode === 143, `exit code ${state.ExitCode}; log:\n${await logs()}`);
    return (
      `workload socket mounted, ready and healthy, uid ${UID}, /v2/ → registry 200, /devices → edgeHub as ${id}, ` +
      `twin reported and patched, stopped in ${seconds.toFixed(1)} s, exit 143`
    );
  } finally {
    await podman('rm', '-f', name);
    await device.close();
    await registry.close();
  }
}
