// Layers of the IoT Edge API proxy in a chain (ISA-95 nesting on one host), two or three: the load hits
// the bottom layer's `/v2/…`, which the default template sends over TLS to its parent, and so on up to
// the top layer, which sends it to the registry (the bench's origin). Every layer runs the packaged
// default template:
//   - gatehouse: `gatehouse serve` on the native config the iot-module compiler makes of it;
//   - nginx: the rendered template text itself (the module's behaviour today).
// What a loopback bench must change is changed for both systems alike, and only that:
//   - listeners bind 127.0.0.1, each layer on a port of its own; a layer below the top dials
//     `parent:${NGINX_DEFAULT_PORT}`, so its NGINX_DEFAULT_PORT is its parent's port (the top
//     layer's is its own);
//   - the names `registry` and `parent` resolve to 127.0.0.1: the compiler's `hosts` map for
//     Gatehouse, a loopback DNS stand-in in place of Docker's `resolver 127.0.0.11` for nginx;
//   - `/dev/stdout` (access and error log) is a file in the temp dir;
//   - nginx plumbing only: `user root;`, cache and temp paths inside the temp dir.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatehouseConfig } from '../../../packages/core/src/config/types.js';
import { loadProxyConfig, readDefaultTemplate, renderTemplate } from '@gatehouse/iot-module';
import { startDnsResponder } from '../../../test/helpers/dns-responder.js';
import { issueCert, makeCa, type CertAuthority, type CertPair } from '../env/certs.js';
import { nginxTempPaths } from '../env/origin.js';
import { freePort } from '../proc/ports.js';
import type { Started } from '../proc/registry.js';
import { cliPath } from './gatehouse.js';
import { prepare, runningSystem, startProxyProcess } from './launch.js';
import type { RunContext, RunningSystem, StartSystem, SystemName } from './types.js';

/** A layer's depth: 0 is the top layer, the last one (where the load goes) the bottom layer. */
export type Layer = number;

/** The module id: the template verifies the parent's certificate against it (`proxy_ssl_name`). */
export const MODULE_ID = 'apiproxy';
/** The lower layer's IOTEDGE_PARENTHOSTNAME (a name, as on a real nested device). */
const PARENT_HOSTNAME = 'parent';
/** Upstream names the rendered layers dial, all on loopback here. */
const LOOPBACK_HOSTS: Record<string, string> = {
  registry: '127.0.0.1',
  [PARENT_HOSTNAME]: '127.0.0.1',
};

export interface LayerPorts {
  /** Each layer's listener, top first; the last one is where the load goes. */
  layers: number[];
  /** The registry upstream (the bench's origin). */
  origin: number;
}

/** `top`, `middle1`…, `bottom`: directory and log names. */
export function layerName(layer: Layer, count: number): string {
  return layer === 0 ? 'top' : layer === count - 1 ? 'bottom' : `middle${layer}`;
}

/** The environment the module would get on each layer (only what the template reads). */
export function layerEnv(layer: Layer, ports: LayerPorts): Record<string, string> {
  const parentPort = ports.layers[Math.max(0, layer - 1)]!;
  const common = { NGINX_DEFAULT_PORT: String(parentPort), IOTEDGE_MODULEID: MODULE_ID };
  return layer === 0
    ? { ...common, DOCKER_REQUEST_ROUTE_ADDRESS: `registry:${ports.origin}` }
    : { ...common, IOTEDGE_PARENTHOSTNAME: PARENT_HOSTNAME };
}

function listenPort(layer: Layer, ports: LayerPorts): number {
  const port = ports.layers[layer];
  if (port === undefined) throw new Error(`no layer ${layer} in a chain of ${ports.layers.length}`);
  return port;
}

/** Gatehouse's native config for a layer: the iot-module compiler's output, listener on its own port. */
export function gatehouseLayerConfig(layer: Layer, ports: LayerPorts, confDir: string): GatehouseConfig {
  const { config } = loadProxyConfig({
    template: readDefaultTemplate(),
    env: layerEnv(layer, ports),
    confDir,
    hosts: LOOPBACK_HOSTS,
    listenAddress: '127.0.0.1',
  });
  const listens = config.servers.flatMap((s) => s.listen);
  if (listens.length !== 1) throw new Error(`the ${layer} layer has ${listens.length} listeners, expected 1`);
  listens[0]!.port = listenPort(layer, ports);
  return config;
}

/**
 * The rendered template as nginx gets it for a layer, with the loopback substitutions listed at the
 * top of this file. Each edit must apply as often as expected, so a template change cannot slip by.
 */
export function nginxLayerConf(layer: Layer, ports: LayerPorts, o: { dir: string; dnsPort: number }): string {
  const rendered = renderTemplate(readDefaultTemplate(), { env: layerEnv(layer, ports) }).text;
  const edits: Array<[RegExp, string, 'once' | 'some']> = [
    [
      /^(\s*)listen \d+ ssl default_server;/m,
      `$1listen 127.0.0.1:${listenPort(layer, ports)} ssl default_server;`,
      'once',
    ],
    [/resolver 127\.0\.0\.11;/g, `resolver 127.0.0.1:${o.dnsPort};`, 'some'],
    [/proxy_cache_path \/var\/cache\/nginx /, `proxy_cache_path ${join(o.dir, 'cache')} `, 'once'],
    [/^http \{$/m, `http {\n  ${nginxTempPaths(join(o.dir, 'tmp'))}`, 'once'],
  ];
  let text = `user root;\n${rendered}`;
  for (const [re, replacement, times] of edits) {
    const count =
      text.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))?.length ?? 0;
    if (times === 'once' ? count !== 1 : count === 0)
      throw new Error(`nginx ${layer} layer: edit ${re} matched ${count} times in the rendered template`);
    text = text.replace(re, replacement);
  }
  return text;
}

interface LayerPki {
  ca: CertAuthority;
  /** Server certificates by layer. */
  layers: CertPair[];
}

const pkiByRun = new Map<string, LayerPki>();

/**
 * One CA per run (the edge CA's trust bundle) and a server certificate per layer with the parent host
 * name and the module id as SANs (the layer below verifies `proxy_ssl_name ${IOTEDGE_MODULEID}`
 * against the CA). ECDSA P-256, like the spec says.
 */
function layerPki(ctx: RunContext, count: number): LayerPki {
  let pki = pkiByRun.get(ctx.dir);
  if (!pki) {
    const dir = join(ctx.dir, 'iot-pki');
    mkdirSync(dir, { recursive: true });
    pki = { ca: makeCa(dir, 'edge-ca', 'ecdsa'), layers: [] };
    pkiByRun.set(ctx.dir, pki);
  }
  for (let layer = pki.layers.length; layer < count; layer++)
    pki.layers.push(
      issueCert(join(ctx.dir, 'iot-pki'), `layer${layer}`, pki.ca, 'ecdsa', [
        `DNS:${MODULE_ID}`,
        `DNS:${PARENT_HOSTNAME}`,
        'IP:127.0.0.1',
      ]),
    );
  return pki;
}

/** A layer's conf dir as the module lays it out (`/app`): server.crt, private_key_server.pem, trustedCA.crt. */
function layerDir(ctx: RunContext, sysDir: string, layer: Layer, count: number): string {
  const pki = layerPki(ctx, count);
  const dir = join(sysDir, layerName(layer, count));
  mkdirSync(dir, { recursive: true });
  copyFileSync(pki.layers[layer]!.certFile, join(dir, 'server.crt'));
  copyFileSync(pki.layers[layer]!.keyFile, join(dir, 'private_key_server.pem'));
  copyFileSync(pki.ca.certFile, join(dir, 'trustedCA.crt'));
  return dir;
}

/** Start the layers top first (each dials its parent); if one fails, stop those already started. */
async function startChain(
  name: SystemName,
  ports: LayerPorts,
  startLayer: (layer: Layer) => Promise<Started>,
  after?: () => Promise<void>,
): Promise<RunningSystem> {
  const started: Started[] = [];
  const bottom = ports.layers.at(-1)!;
  try {
    for (let layer = 0; layer < ports.layers.length; layer++) started.push(await startLayer(layer));
  } catch (err) {
    // Whatever else the system started is the caller's to release on failure.
    await runningSystem(name, bottom, 'https', started).stop();
    throw err;
  }
  return runningSystem(name, bottom, 'https', started, after);
}

async function layerPorts(ctx: RunContext, top: number, count: number): Promise<LayerPorts> {
  const layers = [top];
  while (layers.length < count) layers.push(await freePort());
  return { layers, origin: ctx.originPort };
}

function startGatehouse(count: number): StartSystem {
  return async (ctx) => {
    const { dir, port } = await prepare(ctx, 'gatehouse');
    const ports = await layerPorts(ctx, port, count);
    // Logs outside the config's dir: `serve` watches that dir for config changes.
    mkdirSync(join(dir, 'logs'), { recursive: true });
    return startChain('gatehouse', ports, async (layer) => {
      const name = layerName(layer, count);
      const confDir = layerDir(ctx, dir, layer, count);
      const file = join(confDir, 'gatehouse.json');
      writeFileSync(file, JSON.stringify(gatehouseLayerConfig(layer, ports, confDir), null, 1));
      return startProxyProcess(
        `gatehouse-${name}`,
        listenPort(layer, ports),
        process.execPath,
        [cliPath(ctx), 'serve', '--config', file],
        { cwd: ctx.repoRoot, stdoutFile: join(dir, 'logs', `${name}.stdout.log`) },
      );
    });
  };
}

function startNginx(count: number): StartSystem {
  return async (ctx) => {
    const { dir, port } = await prepare(ctx, 'nginx');
    const ports = await layerPorts(ctx, port, count);
    // Stands in for Docker's embedded DNS; nginx caches its answers for their TTL (60 s).
    const dns = await startDnsResponder(LOOPBACK_HOSTS);
    try {
      return await startChain(
        'nginx',
        ports,
        async (layer) => {
          const confDir = layerDir(ctx, dir, layer, count);
          const conf = join(confDir, 'nginx.conf');
          writeFileSync(conf, nginxLayerConf(layer, ports, { dir: confDir, dnsPort: dns.port }));
          return startProxyProcess(
            `nginx-${layerName(layer, count)}`,
            listenPort(layer, ports),
            'nginx',
            [
              '-p',
              confDir + '/',
              '-c',
              conf,
              '-e',
              join(confDir, 'error.log'),
              '-g',
              `pid ${join(confDir, 'nginx.pid')}; daemon off;`,
            ],
            { stdoutFile: join(confDir, 'stdout.log') },
          );
        },
        () => dns.close(),
      );
    } catch (err) {
      await dns.close();
      throw err;
    }
  };
}

/** The chain scenarios' set-up per system: `count` layers of each product. */
export function iotLayers(count: number): Partial<Record<SystemName, StartSystem>> {
  if (count < 2) throw new Error('a chain has at least two layers');
  return { gatehouse: startGatehouse(count), nginx: startNginx(count) };
}
