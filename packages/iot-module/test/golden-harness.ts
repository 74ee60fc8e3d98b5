// Shared set-up of the golden and oracle tests of the default template: a dev PKI written as the
// module's conf dir, recording upstreams standing in for registry / blob storage / connected ACR /
// edgeHub / the parent proxy, a fake token server, the three layer environments, and an HTTPS client.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatehouseConfig } from '@gatehouse/core';
import { createTestPki, type TestPki, type WrittenCertificate } from '../../../test/helpers/pki.js';
import { loadProxyConfig, readDefaultTemplate } from '../src/config/index.js';

export const MODULE_ID = 'apiproxy';
/** The Host header every request of the tables sends (so nginx and the engine see the same one). */
export const CLIENT_HOST = 'edge-gateway.local';

export interface IotPki extends TestPki {
  /** Parent proxy certificate with SAN = the module id (what the workload API issues). */
  parentGood: WrittenCertificate;
  /** Parent proxy certificate from the same CA without the module id SAN. */
  parentBad: WrittenCertificate;
  /** The module's conf dir: server.crt, private_key_server.pem, trustedCA.crt. */
  confDir: string;
}

export function createIotPki(): IotPki {
  const pki = createTestPki({ caName: 'Edge test CA' });
  const parentGood = pki.issue('parent-good', { commonName: 'parent', dnsNames: [MODULE_ID, 'parent'] });
  const parentBad = pki.issue('parent-bad', { commonName: 'parent', dnsNames: ['parent', 'other-module'] });
  writeFileSync(join(pki.dir, 'server.crt'), pki.server.chainPem);
  writeFileSync(join(pki.dir, 'private_key_server.pem'), pki.server.keyPem, { mode: 0o600 });
  writeFileSync(join(pki.dir, 'trustedCA.crt'), pki.ca.certPem);
  return { ...pki, parentGood, parentBad, confDir: pki.dir };
}

export interface Recorded {
  upstream: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  /** SNI the client sent (TLS upstreams). */
  servername: string | undefined;
}

export interface Recorder {
  name: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/** An upstream that records every request and answers 200 `{"upstream":name,"url":…,"bytes":n}`. */
export async function startRecorder(
  name: string,
  requests: Recorded[],
  tls?: { cert: string; key: string },
): Promise<Recorder> {
  const handler: http.RequestListener = (req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const servername = (req.socket as TLSSocket).servername || undefined;
      requests.push({
        upstream: name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyBytes: bytes,
        servername,
      });
      const body = JSON.stringify({ upstream: name, url: req.url, bytes });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
    : http.createServer(handler);
  // WebSocket handshakes are recorded and accepted (101), then the tunnel is closed.
  server.on('upgrade', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
    const servername = (req.socket as TLSSocket).servername || undefined;
    requests.push({
      upstream: name,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      bodyBytes: 0,
      servername,
    });
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface TokenServer {
  port: number;
  calls: Recorded[];
  close(): Promise<void>;
}

/** The module's token server: answers every request with `x-token`, after `delayMs` (to widen races). */
export async function startTokenServer(token: string, delayMs: number): Promise<TokenServer> {
  const calls: Recorded[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    calls.push({
      upstream: 'token',
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      bodyBytes: 0,
      servername: undefined,
    });
    req.resume();
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(200, { 'x-token': token, 'content-length': '0' });
      res.end();
    }, delayMs);
    timers.add(t);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type Layer = 'top' | 'lower' | 'acr';

export interface UpstreamPorts {
  registry: number;
  blob: number;
  acr: number;
  edgehub: number;
  token: number;
  /** The parent proxy's port: the template dials `parent:${NGINX_DEFAULT_PORT}`. */
  parent: number;
}

/** The ports of the recorders named registry, blob, acr, edgehub and parent, and of the token server. */
export function upstreamPorts(recorders: readonly Recorder[], tokenPort: number): UpstreamPorts {
  const port = (name: string) => recorders.find((r) => r.name === name)!.port;
  return {
    registry: port('registry'),
    blob: port('blob'),
    acr: port('acr'),
    edgehub: port('edgehub'),
    token: tokenPort,
    parent: port('parent'),
  };
}

/** The environment of each layer (§4.2), with the upstream ports of this test run. */
export function layerEnv(layer: Layer, ports: UpstreamPorts): Record<string, string> {
  switch (layer) {
    case 'top':
      return {
        NGINX_DEFAULT_PORT: String(ports.parent),
        DOCKER_REQUEST_ROUTE_ADDRESS: `registry:${ports.registry}`,
        BLOB_UPLOAD_ROUTE_ADDRESS: `AzureBlobStorageonIoTEdge:${ports.blob}`,
      };
    case 'lower':
      return {
        NGINX_DEFAULT_PORT: String(ports.parent),
        IOTEDGE_PARENTHOSTNAME: 'parent',
        IOTEDGE_MODULEID: MODULE_ID,
      };
    case 'acr':
      return {
        NGINX_DEFAULT_PORT: String(ports.parent),
        BLOB_UPLOAD_ROUTE_ADDRESS: `AzureBlobStorageonIoTEdge:${ports.blob}`,
        CONNECTED_ACR_ROUTE_ADDRESS: `connected-registry:${ports.acr}`,
        IOTEDGE_PARENTHOSTNAME: 'parent',
        IOTEDGE_MODULEID: MODULE_ID,
      };
  }
}

export const LOOPBACK_NAMES = [
  'edgehub',
  'registry',
  'AzureBlobStorageonIoTEdge',
  'parent',
  'connected-registry',
];

/**
 * The default template's rendered text for a layer, with the two changes a loopback test needs:
 * edgeHub's fixed port 443 becomes the recording edgeHub's port (a host map cannot change a port).
 */
export function renderLayer(
  layer: Layer,
  ports: UpstreamPorts,
  confDir: string,
): { rendered: string; config: GatehouseConfig } {
  const { rendered, config } = loadProxyConfig({
    template: readDefaultTemplate(),
    env: layerEnv(layer, ports),
    confDir,
    reserved: { TOKEN_SERVER_PORT: String(ports.token) },
    hosts: Object.fromEntries(LOOPBACK_NAMES.map((n) => [n, '127.0.0.1'])),
    listenAddress: '127.0.0.1',
  });
  const edgehub = JSON.stringify(`https://edgehub:${ports.edgehub}`);
  const patched = JSON.parse(
    JSON.stringify(config).replaceAll('"https://edgehub"', edgehub),
  ) as GatehouseConfig;
  // The listener takes an ephemeral port (NGINX_DEFAULT_PORT is the parent's port); logs stay quiet.
  for (const s of patched.servers) for (const l of s.listen) l.port = 0;
  patched.log = { level: 'silent', access: false };
  return {
    rendered: rendered.replaceAll('https://edgehub;', `https://edgehub:${ports.edgehub};`),
    config: patched,
  };
}

export interface ClientRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Present the test client certificate. */
  clientCert?: boolean;
}

export interface ClientResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTPS request on a fresh connection (TLS 1.2, no server verification: the tests check routing). */
export function send(
  port: number,
  pki: TestPki,
  r: ClientRequest,
  timeoutMs = 10_000,
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: r.method ?? 'GET',
        path: r.path,
        headers: { host: CLIENT_HOST, ...r.headers },
        agent: false,
        rejectUnauthorized: false,
        ...(r.clientCert ? { cert: pki.client.certPem, key: pki.client.keyPem } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${r.path} timed out`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A WebSocket handshake over TLS; resolves with the status (101 when upgraded) and the response headers. */
export function upgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      rejectUnauthorized: false,
      timeout: timeoutMs,
      headers: {
        host: CLIENT_HOST,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'mqtt',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`upgrade ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
