// WebSocket (and generic Upgrade) proxying: echo, subprotocols, close propagation, idle timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startEngine } from '../../../test/helpers/engine.js';

async function wsUpstream(onConnection?: (ws: WebSocket, req: http.IncomingMessage) => void) {
  const server = http.createServer((_q, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  const requests: http.IncomingMessage[] = [];
  wss.on('connection', (ws, req) => {
    requests.push(req);
    if (onConnection) return onConnection(ws, req);
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    wss,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)));
  });
}

test('WebSocket echo through the proxy, with subprotocol and headers relayed', async (t) => {
  const up = await wsUpstream();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { regex: '^/.iothub/websocket' },
            action: {
              type: 'proxy',
              upstream: up.url,
              setHeaders: [{ name: 'authorization', value: 'token-x' }],
            },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ws = await open(`ws://127.0.0.1:${gh.port}/$iothub/websocket?x=1`, ['mqtt']);
  assert.equal(ws.protocol, 'mqtt');
  const replies: string[] = [];
  const got = new Promise<void>((resolve) =>
    ws.on('message', (d) => {
      replies.push(d.toString());
      if (replies.length === 3) resolve();
    }),
  );
  ws.send('one');
  ws.send('two');
  ws.send(Buffer.alloc(200_000, 'b'));
  await got;
  assert.deepEqual(replies.slice(0, 2), ['one', 'two']);
  assert.equal(replies[2]!.length, 200_000);
  const seen = up.requests[0]!;
  assert.equal(seen.url, '/$iothub/websocket?x=1');
  assert.equal(seen.headers.authorization, 'token-x');
  assert.equal(seen.headers.upgrade?.toLowerCase(), 'websocket');
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.close(1000);
  assert.equal(await closed, 1000);
});

test('upstream close propagates to the client; unknown route gets 404 on upgrade', async (t) => {
  const up = await wsUpstream((ws) => setTimeout(() => ws.close(4001, 'bye'), 50));
  const gh = await startEngine({
    servers: [{ routes: [{ match: { prefix: '/ws' }, action: { type: 'proxy', upstream: up.url } }] }],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ws = await open(`ws://127.0.0.1:${gh.port}/ws`);
  const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
  assert.equal(code, 4001);
  await assert.rejects(open(`ws://127.0.0.1:${gh.port}/nothing`), /unexpected 404/);
});

test('an idle tunnel is closed after the route read timeout', async (t) => {
  const up = await wsUpstream(() => undefined);
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { prefix: '/' },
            action: { type: 'proxy', upstream: up.url, options: { readTimeoutMs: 300 } },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ws = await open(`ws://127.0.0.1:${gh.port}/idle`);
  const started = Date.now();
  await new Promise<void>((r) => ws.on('close', () => r()));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 5000, `closed after ${elapsed} ms`);
});

test('an upgrade refused by the upstream is relayed as the upstream answered it', async (t) => {
  const plain = http.createServer((_q, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer' });
    res.end('no');
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { prefix: '/' },
            action: { type: 'proxy', upstream: `http://127.0.0.1:${(plain.address() as AddressInfo).port}` },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    plain.closeAllConnections();
    plain.close();
  });
  await assert.rejects(open(`ws://127.0.0.1:${gh.port}/x`), /unexpected 401/);
});
