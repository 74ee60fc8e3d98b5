// WebSocket sessions go through the same handler as other requests: an access-log line at close
// (status 101, bytes both ways, duration), a gatehouse_requests_total sample, and the plugins'
// request hooks, so an oauth-like plugin can refuse the handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import {
  createGatehouse,
  createPluginLogger,
  createPluginPipeline,
  createPluginStats,
  definePlugin,
  initPlugin,
} from '../src/index.js';
import { createLogger } from '../src/observability/logger.js';

const quiet = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));

test('a WebSocket session is logged and counted at close; a plugin can refuse the handshake', async (t) => {
  const server = http.createServer((_q, res) => res.end('plain'));
  const wss = new WebSocketServer({ server });
  let upgrades = 0;
  wss.on('connection', (ws) => {
    upgrades++;
    ws.on('message', (d) => ws.send(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const oauth = definePlugin({
    name: 'oauth',
    init: () => ({
      onRequest(ctx) {
        if (ctx.req.headers.authorization !== 'Bearer good')
          ctx.respond(401, { error: 'missing_authorization' });
      },
    }),
  });
  const lines: string[] = [];
  const gh = createGatehouse({
    logger: quiet,
    accessLogStream: new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(...c.toString().split('\n').filter(Boolean));
        cb();
      },
    }),
    config: {
      log: { access: true },
      servers: [
        {
          name: 'ws',
          listen: [{ address: '127.0.0.1', port: 0 }],
          routes: [
            {
              name: 'socket',
              match: { prefix: '/' },
              plugins: ['oauth'],
              action: { type: 'proxy', upstream },
            },
          ],
        },
      ],
    },
    pipeline: createPluginPipeline({
      plugins: [
        await initPlugin('oauth', oauth, {}, createPluginLogger(quiet, 'oauth'), createPluginStats()),
      ],
      logger: quiet,
    }),
  });
  await gh.start();
  t.after(async () => {
    await gh.close(500);
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const url = `ws://127.0.0.1:${gh.addresses()[0]!.port}/chat`;

  // Refused by the plugin: the upstream never sees the handshake.
  const refused = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode!));
    ws.once('open', () => reject(new Error('opened without authorization')));
    ws.once('error', () => undefined);
  });
  assert.equal(refused, 401);
  assert.equal(upgrades, 0);

  // Accepted: echo 5 bytes, then close; the session is logged when the tunnel closes.
  const ws = new WebSocket(url, { headers: { authorization: 'Bearer good' } });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  ws.send('hello');
  assert.equal(await echoed, 'hello');
  await new Promise<void>((r) => setTimeout(r, 100));
  ws.close();
  await new Promise((r) => ws.once('close', r));
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !lines.some((l) => l.includes('"status":101')))
    await new Promise((r) => setTimeout(r, 20));

  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const denied = entries.find((e) => e.status === 401);
  assert.ok(denied, `a line for the refused handshake: ${lines.join('\n')}`);
  const session = entries.find((e) => e.status === 101);
  assert.ok(session, `a line for the session: ${lines.join('\n')}`);
  assert.ok((session.bytes_in as number) > 5 + 100, `bytes in: ${String(session.bytes_in)}`);
  assert.ok((session.bytes_out as number) > 5 + 100, `bytes out: ${String(session.bytes_out)}`);
  assert.ok(!session.error, `no error: ${String(session.error)}`);
  const metrics = await gh.registry.metrics();
  assert.match(metrics, /gatehouse_requests_total\{server="ws",route="socket",status_class="1xx"\} 1/);
  assert.match(metrics, /gatehouse_requests_total\{server="ws",route="socket",status_class="4xx"\} 1/);
  assert.equal(gh.inFlight, 0);
});
