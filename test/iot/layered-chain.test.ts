// Three running modules layered on loopback (layered-chain.ts). A client of the bottom
// layer pulls an image, uploads blobs, calls edgeHub, invokes a direct method with the real SDK and
// opens a WebSocket; an instance that does not trust its parent gets 502 naming the cause; SIGTERM
// (close) lets a pull in flight finish.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { ModuleClient } from 'azure-iot-device';
import type { IotModule } from '../../packages/iot-module/src/index.js';
import type { CertificateAuthority } from '../../packages/core/src/tls/index.js';
import type { BlobStorage } from '../emulators/iot/blob-storage.js';
import type { Registry } from '../emulators/iot/registry.js';
import {
  MODULE_ID,
  request,
  startDevice,
  startModule,
  startSdkModule,
  type Device,
  NEEDS_PORT_443,
} from './harness.js';
import { startLayeredChain, type LayerAddresses, type LayeredChain } from './layered-chain.js';

/** Size of the layer pulled through the three proxies (time-bounded here; bench/ pulls 1 GiB). */
const BLOB_BYTES = Number(process.env.IOT_CHAIN_BLOB_MIB ?? 256) * 1024 * 1024;

interface Streamed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  sha256: string;
  bytes: number;
  /** Highest RSS growth seen while streaming. */
  rssGrowth: number;
}

/** GET with the body hashed as it arrives (never held). */
function stream(url: string, ca: string, headers: Record<string, string> = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const startRss = process.memoryUsage.rss();
    let peak = startRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    const req = https.get(url, { ca, agent: false, headers, checkServerIdentity: () => undefined }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      res.on('error', reject);
      res.on('end', () => {
        clearInterval(sampler);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          sha256: hash.digest('hex'),
          bytes,
          rssGrowth: peak - startRss,
        });
      });
    });
    req.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
  });
}

describe('three layered modules (L5 top, L4, L3)', { skip: NEEDS_PORT_443 }, () => {
  let chain: LayeredChain;
  let ca: CertificateAuthority;
  let registry: Registry;
  let blobs: BlobStorage;
  let L: LayerAddresses;
  const sdkClients: ModuleClient[] = [];
  let d3: Device;
  let l3: IotModule;
  let base: string;

  before(async () => {
    chain = await startLayeredChain();
    ({ ca, registry, blobs, layers: L } = chain);
    ({ device: d3, module: l3, base } = chain.bottom);
  });

  after(async () => {
    for (const c of sdkClients) await c.close().catch(() => undefined);
    await chain?.close();
  });

  it('pulls an image: /v2/, the manifest, a large layer byte-exact with flat memory, raw targets kept', async () => {
    const blob = registry.addBlob('edge/app', BLOB_BYTES, 7);
    const v2 = await request(`${base}/v2/`, { ca: ca.certPem });
    assert.equal(v2.status, 200);
    const manifest = await request(`${base}/v2/edge/app/manifests/1.0?x=%2F+%25`, {
      ca: ca.certPem,
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(manifest.status, 200);
    assert.equal(
      (JSON.parse(manifest.body.toString()) as { layers: Array<{ digest: string }> }).layers[0]?.digest,
      blob.digest,
    );
    assert.equal(registry.calls.at(-1)?.url, '/v2/edge/app/manifests/1.0?x=%2F+%25');
    const started = Date.now();
    const pulled = await stream(`${base}/v2/edge/app/blobs/${blob.digest}`, ca.certPem);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(pulled.status, 200);
    assert.equal(pulled.bytes, BLOB_BYTES);
    assert.equal(`sha256:${pulled.sha256}`, blob.digest);
    // Three proxies, the registry and the client share this process: none may hold the layer.
    assert.ok(
      pulled.rssGrowth < Math.min(BLOB_BYTES / 2, 160 * 1024 * 1024),
      `RSS grew ${pulled.rssGrowth >> 20} MiB`,
    );
    process.stderr.write(
      `# layer pull through 3 layers: ${BLOB_BYTES >> 20} MiB in ${seconds.toFixed(1)} s, RSS growth ${pulled.rssGrowth >> 20} MiB\n`,
    );
  });

  it('passes Range and 307 redirects through the layers', async () => {
    const blob = registry.addBlob('edge/app', 8 * 1024 * 1024 + 17, 9, { redirect: true });
    const redirected = await request(`${base}/v2/edge/app/blobs/${blob.digest}`, { ca: ca.certPem });
    assert.equal(redirected.status, 307);
    const location = String(redirected.headers.location);
    assert.equal(location, `/v2/edge/app/blobs/data/${blob.digest}`);
    const ranged = await stream(`${base}${location}`, ca.certPem, { range: 'bytes=1000-2000999' });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers['content-range'], `bytes 1000-2000999/${blob.size}`);
    assert.equal(ranged.sha256, blob.sha256(1000, 2001000));
    const full = await stream(`${base}${location}`, ca.certPem);
    assert.equal(`sha256:${full.sha256}`, blob.digest);
  });

  for (const size of [512 * 1024, 5 * 1024 * 1024, 64 * 1024 * 1024])
    it(`uploads a ${size >> 10} KiB blob with x-ms-version and Content-Length through the layers`, async () => {
      const body = Buffer.alloc(size, size & 0xff);
      body.write('start', 0);
      const res = await request(`${base}/devstore/container/blob-${size}?sv=2019-12-12&sig=abc%2Bdef`, {
        ca: ca.certPem,
        method: 'PUT',
        headers: {
          'x-ms-version': '2019-12-12',
          'x-ms-blob-type': 'BlockBlob',
          'content-length': String(size),
        },
        body,
      });
      assert.equal(res.status, 201, res.body.toString());
      const stored = blobs.blobs.get(`/devstore/container/blob-${size}`);
      assert.equal(stored?.size, size);
      assert.equal(stored?.sha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(stored?.url, `/devstore/container/blob-${size}?sv=2019-12-12&sig=abc%2Bdef`);
    });

  it('a chunked blob upload reaches storage with Content-Length (nginx proxy_request_buffering on)', async () => {
    const first = Buffer.alloc(300_000, 1);
    const last = Buffer.alloc(200_000, 2);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(`${base}/devstore/container/chunked?sv=2019-12-12`, {
        method: 'PUT',
        ca: ca.certPem,
        agent: false,
        checkServerIdentity: () => undefined,
        headers: {
          'x-ms-version': '2019-12-12',
          'x-ms-blob-type': 'BlockBlob',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('error', reject);
      req.on('response', (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('error', reject);
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.write(first);
      req.end(last);
    });
    assert.equal(res.status, 201, res.body);
    // Each of the three layers spools the chunked body and sends it on with its length.
    const stored = blobs.blobs.get('/devstore/container/chunked');
    assert.equal(stored?.contentLength, String(first.length + last.length));
    assert.equal(stored?.transferEncoding, undefined);
    assert.equal(stored?.size, first.length + last.length);
    assert.equal(stored?.sha256, createHash('sha256').update(first).update(last).digest('hex'));
  });

  it('edgeHub identity calls: a SAS caller is forwarded as is; a client certificate alone gets the module token and x-ms-edge-clientcert', async () => {
    const key = d3.workload.keyOf('caller');
    const se = Math.floor(Date.now() / 1000) + 600;
    const sr = encodeURIComponent('test-hub.azure-devices.net/devices/dev3/modules/caller');
    const hmac = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
    const sas = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(hmac)}&se=${se}`;
    const withSas = await request(`${base}/devices/dev3/modules/m1?api-version=2020-09-30`, {
      ca: ca.certPem,
      method: 'PUT',
      headers: { authorization: sas, 'content-type': 'application/json' },
      body: '{"moduleId":"m1"}',
    });
    assert.equal(withSas.status, 200, withSas.body.toString());
    const first = d3.edgeHub.calls.at(-1)!;
    assert.equal(first.identity, 'dev3/caller');
    assert.equal(first.clientCert, undefined);

    const clientCert = d3.workload.issue({ commonName: 'child-device', client: true });
    const withCert = await request(`${base}/devices/dev3/modules/m2?api-version=2020-09-30`, {
      ca: ca.certPem,
      cert: clientCert.certPem,
      key: clientCert.keyPem,
    });
    assert.equal(withCert.status, 200, withCert.body.toString());
    const second = d3.edgeHub.calls.at(-1)!;
    assert.equal(second.identity, `dev3/${MODULE_ID}`, second.authError);
    // nginx's $ssl_client_escaped_cert: the PEM, URL-escaped (compared without line-ending differences).
    assert.equal(second.clientCert?.replace(/\s+/g, ''), clientCert.certPem.replace(/\s+/g, ''));
  });

  it('a direct method from the real SDK reaches the target module through the bottom layer', async () => {
    const target = await startSdkModule(d3, 'target');
    sdkClients.push(target);
    target.onMethod('ping', (req, res) => {
      res!.send(200, { pong: req!.payload }, () => undefined);
    });
    const caller = await startSdkModule(d3, 'caller');
    sdkClients.push(caller);
    const before = d3.edgeHub.calls.length;
    const result = (await caller.invokeMethod('dev3', 'target', {
      methodName: 'ping',
      payload: { n: 42 },
      responseTimeoutInSeconds: 10,
      connectTimeoutInSeconds: 5,
    })) as unknown as { status: number; payload: unknown };
    assert.equal(result.status, 200);
    assert.deepEqual(result.payload, { pong: { n: 42 } });
    const call = d3.edgeHub.calls.slice(before).find((c) => c.url.startsWith('/twins/'));
    assert.equal(call?.identity, 'dev3/caller');
    assert.equal(call?.headers['x-ms-edge-moduleid'], 'dev3/caller');
  });

  it('a WebSocket to /$iothub/websocket is tunnelled with the module token and stays open while idle', async () => {
    const ws = new WebSocket(`wss://${L[3]}/$iothub/websocket`, ['mqtt'], {
      ca: ca.certPem, // the layer's certificate has the gateway address as an IP SAN: fully verified
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'mqtt');
    const echo = (text: string) =>
      new Promise<string>((resolve) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.send(text);
      });
    assert.equal(await echo('first'), 'first');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await echo('after idle'), 'after idle');
    const call = d3.edgeHub.calls.filter((c) => c.websocket).at(-1);
    assert.equal(call?.identity, `dev3/${MODULE_ID}`);
    ws.close();
  });

  it('an instance that does not trust its parent answers 502 naming the TLS cause', async () => {
    // Its own CA: the parent's certificate (from the nested root) is untrusted.
    const gateway = '127.27.16.1';
    const lonely = await startDevice({ deviceId: 'dev6', gateway, edgeHubAddress: '127.27.16.2' });
    chain.devices.push(lonely);
    const module = await startModule(
      lonely,
      { NGINX_DEFAULT_PORT: '443', IOTEDGE_PARENTHOSTNAME: L[4] },
      { hosts: { edgehub: '127.27.16.2' } },
    );
    chain.modules.push(module);
    const res = await request(`https://${gateway}/v2/`, { ca: lonely.workload.trustBundle });
    assert.equal(res.status, 502);
    const body = JSON.parse(res.body.toString()) as { error: string; message: string; detail?: string };
    assert.equal(body.error, 'upstream_tls');
    assert.match(
      `${body.message} ${body.detail ?? ''}`,
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY|certificate/,
    );
  });

  it('close (SIGTERM) lets a layer pull in flight finish, then stops', async () => {
    const blob = registry.addBlob('edge/app', 48 * 1024 * 1024, 11);
    const pulling = new Promise<{ sha: string; bytes: number }>((resolve, reject) => {
      https
        .get(
          `${base}/v2/edge/app/blobs/${blob.digest}`,
          { ca: ca.certPem, agent: false, checkServerIdentity: () => undefined },
          (res) => {
            const hash = createHash('sha256');
            let bytes = 0;
            let paused = false;
            res.on('data', (c: Buffer) => {
              hash.update(c);
              bytes += c.length;
              // A slow reader: the transfer is still under way when close() begins.
              if (!paused && bytes > 4 * 1024 * 1024) {
                paused = true;
                res.pause();
                setTimeout(() => res.resume(), 300);
              }
            });
            res.on('end', () => resolve({ sha: hash.digest('hex'), bytes }));
            res.on('error', reject);
            (res.socket as TLSSocket).on('error', reject);
          },
        )
        .on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = l3.close();
    const pulled = await pulling;
    await closing;
    assert.equal(pulled.bytes, blob.size);
    assert.equal(`sha256:${pulled.sha}`, blob.digest);
    await assert.rejects(request(`${base}/v2/`, { ca: ca.certPem }), /ECONNREFUSED/);
  });
});
