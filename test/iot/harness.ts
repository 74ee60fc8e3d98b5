// Shared set-up of the running-module tests: one IoT Edge device on loopback — its workload API
// (unix socket), its edgeHub (MQTT hub on GATEWAY:8883, HTTPS fake on EDGEHUB:443) — and the module
// (`IotModule`, what `iot-module run` runs) listening on GATEWAY:port, as a layer of a nested set-up.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { IotModule, type IotModuleOptions } from '../../packages/iot-module/src/index.js';
import { createModuleLogger } from '../../packages/iot-module/src/runtime/module-logger.js';
import { startEdgeHub, type EdgeHub } from '../emulators/iot/edgehub.js';
import { startMqttHub, type MqttHub } from '../emulators/iot/mqtt-hub.js';
import { startWorkloadApi, type WorkloadApi } from '../emulators/iot/workload-api.js';
import type { CertificateAuthority } from '../../packages/core/src/tls/index.js';

/** The device emulation binds edgeHub fakes (and the layered chain, the module) on port 443. */
export const NEEDS_PORT_443: string | false =
  typeof process.getuid === 'function' && process.getuid() !== 0
    ? 'binds port 443 on 127.27.x.x (edgeHub, the SDK dials gateway:443): run as root'
    : false;

export const HUB_HOSTNAME = 'test-hub.azure-devices.net';
export const MODULE_ID = 'apiproxy';

export async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  s.listen(0, host);
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Device {
  deviceId: string;
  /** Workload APIs of the extra modules. */
  moduleWorkloads: Record<string, WorkloadApi>;
  /** The device's gateway address (module listener, MQTT hub). */
  gateway: string;
  workload: WorkloadApi;
  hub: MqttHub;
  edgeHub: EdgeHub;
  /** Module env (IOTEDGE_*), ready to extend with template variables. */
  env: Record<string, string>;
  logs: string[];
  close(): Promise<void>;
}

export async function startDevice(opts: {
  deviceId: string;
  gateway: string;
  edgeHubAddress: string;
  serverCertLifetimeMs?: number;
  /** Other identities on this device (`device/module` → key) the hub and edgeHub accept. */
  extraModules?: string[];
  socketPath?: string;
  /** Shared root of a nested hierarchy. */
  ca?: CertificateAuthority;
}): Promise<Device> {
  const modules: Record<string, string> = { [MODULE_ID]: randomBytes(32).toString('base64') };
  for (const m of opts.extraModules ?? []) modules[m] = randomBytes(32).toString('base64');
  const workload = await startWorkloadApi({
    modules,
    caller: MODULE_ID,
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.socketPath !== undefined ? { socketPath: opts.socketPath } : {}),
    ...(opts.serverCertLifetimeMs !== undefined ? { serverCertLifetimeMs: opts.serverCertLifetimeMs } : {}),
  });
  // edgelet gives each module its own socket: the others' workload APIs (same CA and keys).
  const moduleWorkloads: Record<string, WorkloadApi> = {};
  for (const m of opts.extraModules ?? [])
    moduleWorkloads[m] = await startWorkloadApi({ modules, caller: m, ca: workload.ca });
  const keys: Record<string, string> = {};
  for (const m of Object.keys(modules)) keys[`${opts.deviceId}/${m}`] = workload.keyOf(m);
  const hubCert = workload.issue({ commonName: opts.gateway, ipAddresses: [opts.gateway] });
  const hub = await startMqttHub({
    host: opts.gateway,
    cert: hubCert.chainPem,
    key: hubCert.keyPem,
    hubHostname: HUB_HOSTNAME,
    gatewayHostname: opts.gateway,
    keys,
  });
  const ehCert = workload.issue({ commonName: 'edgehub', dnsNames: ['edgehub'] });
  const edgeHub = await startEdgeHub({
    host: opts.edgeHubAddress,
    port: 443,
    cert: ehCert.chainPem,
    key: ehCert.keyPem,
    hubHostname: HUB_HOSTNAME,
    gatewayHostname: opts.gateway,
    keys,
    invokeMethod: (target, name, payload, timeoutMs) => hub.invokeMethod(target, name, payload, timeoutMs),
  });
  const env: Record<string, string> = {
    IOTEDGE_DEVICEID: opts.deviceId,
    IOTEDGE_MODULEID: MODULE_ID,
    IOTEDGE_MODULEGENERATIONID: 'gen1',
    IOTEDGE_GATEWAYHOSTNAME: opts.gateway,
    IOTEDGE_IOTHUBHOSTNAME: HUB_HOSTNAME,
    IOTEDGE_WORKLOADURI: workload.uri,
    IOTEDGE_AUTHSCHEME: 'sasToken',
  };
  return {
    deviceId: opts.deviceId,
    moduleWorkloads,
    gateway: opts.gateway,
    workload,
    hub,
    edgeHub,
    env,
    logs: [],
    close: async () => {
      await edgeHub.close();
      await hub.close();
      await workload.close();
      for (const w of Object.values(moduleWorkloads)) await w.close();
    },
  };
}

/** The module of `device` with `templateEnv` (NGINX_DEFAULT_PORT, …), started and serving. */
export async function startModule(
  device: Device,
  templateEnv: Record<string, string>,
  extra: Partial<IotModuleOptions> = {},
): Promise<IotModule> {
  const module = new IotModule({
    env: { ...device.env, ...templateEnv },
    confDir: '/app',
    listenAddress: device.gateway,
    tokenServerPort: 0,
    trustBundlePollMs: 500,
    backoff: { initialMs: 100, maxMs: 1000 },
    drainTimeoutMs: 5000,
    logger: createModuleLogger((line) => void device.logs.push(line), 'info'),
    ...extra,
  });
  await module.start();
  return module;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Serial number of the server certificate the connection saw. */
  serial: string | undefined;
}

/** One HTTPS request on a fresh connection (trusting `ca`). */
export function request(
  url: string,
  opts: {
    ca: string;
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    cert?: string;
    key?: string;
    servername?: string;
  },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: opts.method ?? 'GET',
      ca: opts.ca,
      agent: false,
      headers: opts.headers,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      ...(opts.servername ? { servername: opts.servername } : {}),
      checkServerIdentity: () => undefined,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          serial: (res.socket as TLSSocket).getPeerCertificate?.()?.serialNumber,
        }),
      );
    });
    req.end(opts.body);
  });
}

/** Requests in three loops while `during` runs (it can read how many were answered so far); every
 *  answer's status and every error is collected. */
export async function underTraffic<T>(
  send: () => Promise<Response>,
  during: (answered: () => number) => Promise<T>,
  maxRequests = 5000,
): Promise<{ result: T; statuses: number[]; errors: string[] }> {
  const statuses: number[] = [];
  const errors: string[] = [];
  let done = false;
  const loops = [0, 1, 2].map(async () => {
    while (!done && statuses.length + errors.length < maxRequests) {
      try {
        statuses.push((await send()).status);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  });
  try {
    const result = await during(() => statuses.length + errors.length);
    return { result, statuses, errors };
  } finally {
    done = true;
    await Promise.all(loops);
  }
}

/** A module of `device` on the real SDK (`ModuleClient.fromEnvironment` over MQTT), opened. */
export async function startSdkModule(
  device: Device,
  moduleId: string,
): Promise<import('azure-iot-device').ModuleClient> {
  const sdk = (await import('azure-iot-device')).default;
  const { Mqtt } = (await import('azure-iot-device-mqtt')).default;
  const env: Record<string, string> = {
    ...device.env,
    IOTEDGE_MODULEID: moduleId,
    IOTEDGE_WORKLOADURI: device.moduleWorkloads[moduleId]!.uri,
  };
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  let pending: Promise<import('azure-iot-device').ModuleClient>;
  try {
    pending = sdk.ModuleClient.fromEnvironment(Mqtt); // reads the environment synchronously
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const client = await pending;
  await client.open();
  return client;
}
