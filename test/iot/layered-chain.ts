// Three running modules layered on loopback as a nested IoT Edge hierarchy (§4, §8 of the reference):
// top L5 (registry, blob storage), L4 and L3 below, each on its own 127.27.<net+X>.1 and the same port
// 443, each with its own workload API (one shared root CA), MQTT hub and edgeHub. Shared by the chain
// tests; `net` keeps the addresses of test files that run at the same time apart.
import type { IotModule } from '../../packages/iot-module/src/index.js';
import { createCertificateAuthority, type CertificateAuthority } from '../../packages/core/src/tls/index.js';
import { startBlobStorage, type BlobStorage } from '../emulators/iot/blob-storage.js';
import { startRegistry, type Registry } from '../emulators/iot/registry.js';
import { startDevice, startModule, type Device } from './harness.js';

export type LayerAddresses = { 5: string; 4: string; 3: string };

export interface LayeredChain {
  ca: CertificateAuthority;
  /** Each layer's gateway address (module listener, MQTT hub). */
  layers: LayerAddresses;
  /** Each layer's edgeHub address. */
  edgeHubs: LayerAddresses;
  registry: Registry;
  blobs: BlobStorage;
  /** Top to bottom: L5, L4, L3. */
  devices: Device[];
  modules: IotModule[];
  /** The bottom layer's device and module: where clients connect. */
  bottom: { device: Device; module: IotModule; base: string };
  close(): Promise<void>;
}

/** `net` 10 gives 127.27.15.1 (L5), 127.27.14.1 (L4), 127.27.13.1 (L3) and their edgeHubs on .2. */
export async function startLayeredChain(net = 10): Promise<LayeredChain> {
  const ca = createCertificateAuthority({ commonName: 'Nested edge root CA' });
  const at = (layer: number, host: number): string => `127.27.${net + layer}.${host}`;
  const layers = { 5: at(5, 1), 4: at(4, 1), 3: at(3, 1) };
  const edgeHubs = { 5: at(5, 2), 4: at(4, 2), 3: at(3, 2) };
  const registry = await startRegistry();
  const blobs = await startBlobStorage();
  const devices: Device[] = [];
  const modules: IotModule[] = [];
  const close = async (): Promise<void> => {
    for (const m of modules) await m.close();
    for (const d of devices) await d.close();
    await registry.close();
    await blobs.close();
  };
  try {
    const common = { defaultMaxBodySize: 0 }; // nginx's 1m would refuse the uploads (413)
    const d5 = await startDevice({ deviceId: 'dev5', gateway: layers[5], edgeHubAddress: edgeHubs[5], ca });
    devices.push(d5);
    const d4 = await startDevice({ deviceId: 'dev4', gateway: layers[4], edgeHubAddress: edgeHubs[4], ca });
    devices.push(d4);
    const d3 = await startDevice({
      deviceId: 'dev3',
      gateway: layers[3],
      edgeHubAddress: edgeHubs[3],
      ca,
      extraModules: ['caller', 'target'],
    });
    devices.push(d3);
    modules.push(
      await startModule(
        d5,
        {
          NGINX_DEFAULT_PORT: '443',
          DOCKER_REQUEST_ROUTE_ADDRESS: `registry:${registry.port}`,
          BLOB_UPLOAD_ROUTE_ADDRESS: `blobstore:${blobs.port}`,
        },
        { ...common, hosts: { edgehub: edgeHubs[5], registry: '127.0.0.1', blobstore: '127.0.0.1' } },
      ),
    );
    modules.push(
      await startModule(
        d4,
        { NGINX_DEFAULT_PORT: '443', IOTEDGE_PARENTHOSTNAME: layers[5] },
        { ...common, hosts: { edgehub: edgeHubs[4] } },
      ),
    );
    const l3 = await startModule(
      d3,
      { NGINX_DEFAULT_PORT: '443', IOTEDGE_PARENTHOSTNAME: layers[4] },
      { ...common, hosts: { edgehub: edgeHubs[3] } },
    );
    modules.push(l3);
    return {
      ca,
      layers,
      edgeHubs,
      registry,
      blobs,
      devices,
      modules,
      bottom: { device: d3, module: l3, base: `https://${layers[3]}` },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
