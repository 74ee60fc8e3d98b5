// A WebSocket to `/$iothub/websocket` left idle past every timeout of the default template that could
// apply to it. nginx (the module today) bounds an upgraded connection only by proxy_read_timeout, which
// the template sets to 3600 s; keepalive_timeout (75 s) and the 60 s client header/body and send
// timeouts do not apply to a tunnel. So an idle tunnel stays open for 80 s, with no frame either way
// (no ping), and works afterwards; a close then reaches edgeHub. The template sends the WebSocket to the
// layer's own edgeHub (never to a parent), so one running layer is the whole path.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { IotModule } from '../../packages/iot-module/src/index.js';
import { freePort, MODULE_ID, NEEDS_PORT_443, startDevice, startModule, type Device } from './harness.js';

const GATEWAY = '127.27.31.1';
const EDGEHUB = '127.27.31.2';
/** Past keepalive_timeout (75 s) and the 60 s defaults; well under proxy_read_timeout (3600 s). */
const IDLE_MS = Number(process.env.IOT_WS_IDLE_MS ?? 80_000);

describe('an idle WebSocket through the module', { skip: NEEDS_PORT_443 }, () => {
  let device: Device;
  let module: IotModule;
  let port: number;

  before(async () => {
    device = await startDevice({ deviceId: 'dev-ws', gateway: GATEWAY, edgeHubAddress: EDGEHUB });
    port = await freePort(GATEWAY);
    module = await startModule(device, { NGINX_DEFAULT_PORT: String(port) }, { hosts: { edgehub: EDGEHUB } });
  });

  after(async () => {
    await module?.close();
    await device?.close();
  });

  it(
    `stays open ${IDLE_MS / 1000} s with no traffic, then echoes, and its close reaches edgeHub`,
    { timeout: IDLE_MS + 60_000 },
    async () => {
      const ws = new WebSocket(`wss://${GATEWAY}:${port}/$iothub/websocket`, ['mqtt'], {
        ca: device.workload.trustBundle,
      });
      let closedEarly: string | undefined;
      ws.on('close', (code, reason) => (closedEarly ??= `closed ${code} ${reason.toString()}`));
      ws.on('error', (err) => (closedEarly ??= `error ${err.message}`));
      await once(ws, 'open');
      assert.equal(ws.protocol, 'mqtt');
      const echo = (text: string) =>
        new Promise<string>((resolve) => {
          ws.once('message', (data: Buffer) => resolve(data.toString()));
          ws.send(text);
        });
      assert.equal(await echo('before'), 'before');
      assert.equal(device.edgeHub.sockets, 1);
      assert.equal(device.edgeHub.calls.filter((c) => c.websocket).at(-1)?.identity, `dev-ws/${MODULE_ID}`);

      await new Promise((r) => setTimeout(r, IDLE_MS));
      assert.equal(closedEarly, undefined);
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(device.edgeHub.sockets, 1);
      assert.equal(await echo('after idle'), 'after idle');

      ws.close(1000, 'done');
      await once(ws, 'close');
      const open = (): number => device.edgeHub.sockets; // read afresh (not narrowed by the asserts)
      const end = Date.now() + 5000;
      while (open() !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(open(), 0);
    },
  );
});
