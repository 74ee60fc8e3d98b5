// Upgrades are relayed per route by protocol (default: websocket only). A client's `Upgrade: h2c`
// with `HTTP2-Settings` is never forwarded: a backend that accepts it would hand the client an
// HTTP/2 connection past every route and plugin (h2c smuggling). Such a request is served as a plain
// one with those fields removed, as nginx does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { rawText } from '../../../test/helpers/raw-http.js';
import { startEngine } from '../../../test/helpers/engine.js';

/** A backend that accepts any upgrade (101) and records what reached it, plain or upgrade. */
async function permissiveBackend() {
  const plain: http.IncomingMessage[] = [];
  const upgrades: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    plain.push(req);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('plain answer');
  });
  const tunnels = new Set<Socket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    upgrades.push(req);
    tunnels.add(socket);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${req.headers.upgrade}\r\n\r\n`,
    );
    // A tunnel that answers with what it got, prefixed (stands for the smuggled protocol).
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('tunnel:'), d])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    plain,
    upgrades,
    close: () =>
      new Promise<void>((r) => {
        for (const s of tunnels) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const H2C =
  'GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
  'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n';

test('h2c upgrade: served as a plain request, Upgrade and HTTP2-Settings never reach the upstream', async (t) => {
  const up = await permissiveBackend();
  const gh = await startEngine({
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: up.url } }] }],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const reply = await rawText(gh.port, H2C, 2000, [[300, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n']]);
  assert.match(reply, /^HTTP\/1\.1 200 /, 'no 101 for h2c');
  assert.match(reply, /plain answer/);
  assert.doesNotMatch(reply, /tunnel:/);
  assert.equal(up.upgrades.length, 0, 'the upstream saw no upgrade');
  assert.equal(up.plain.length, 1);
  const seen = up.plain[0]!;
  assert.equal(seen.headers.upgrade, undefined);
  assert.equal(seen.headers['http2-settings'], undefined);
  assert.doesNotMatch(String(seen.headers.connection ?? ''), /upgrade|http2-settings/i);

  // Listing h2c next to websocket: only websocket is relayed.
  const mixed = await rawText(
    gh.port,
    'GET /y HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    1000,
  );
  assert.match(mixed, /^HTTP\/1\.1 101 /);
  assert.equal(up.upgrades.at(-1)!.headers.upgrade, 'websocket');
});

test('upgrade protocols are chosen per route: a listed protocol is relayed, upgrade: false relays none', async (t) => {
  const up = await permissiveBackend();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          { match: { prefix: '/custom/' }, action: { type: 'proxy', upstream: up.url, upgrade: ['foo'] } },
          { match: { prefix: '/none/' }, action: { type: 'proxy', upstream: up.url, upgrade: false } },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ask = (path: string, protocol: string) =>
    `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`;
  const foo = await rawText(gh.port, ask('/custom/a', 'FOO/2'), 1000, [[300, 'hello']]);
  assert.match(foo, /^HTTP\/1\.1 101 /);
  assert.match(foo, /tunnel:hello/);
  assert.equal(up.upgrades.at(-1)!.headers.upgrade, 'FOO/2');

  const ws = await rawText(gh.port, ask('/custom/b', 'websocket'), 1000);
  assert.match(ws, /^HTTP\/1\.1 200 /, 'websocket is not in this route’s list');
  const none = await rawText(gh.port, ask('/none/c', 'websocket'), 1000);
  assert.match(none, /^HTTP\/1\.1 200 /);
  assert.equal(up.upgrades.length, 1);
  assert.equal(up.plain.length, 2);
  for (const r of up.plain) assert.equal(r.headers.upgrade, undefined);
});

test('a route upgrade list is validated', async () => {
  await assert.rejects(
    startEngine({
      servers: [
        {
          routes: [
            {
              match: { prefix: '/' },
              action: { type: 'proxy', upstream: 'http://127.0.0.1:9', upgrade: ['a b'] },
            },
          ],
        },
      ],
    }),
    /routes\[0\]\.action\.upgrade\[0\]: not a protocol name/,
  );
});
