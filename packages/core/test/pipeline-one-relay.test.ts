// A route whose plugins have response hooks relays the upstream's answer through the engine's own
// relay, as a route without plugins does: repeated fields stay separate lines, the reason phrase and
// the trailers are relayed, the hooks' fields win over the upstream's of the same name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createPluginPipeline, loadPlugins } from '../src/pipeline/index.js';
import { PLUGIN_DIR, silent, startGateway, type Gateway } from './fixtures/plugins/harness.js';
import { rawRequest } from '../../../test/helpers/raw-http.js';

const ANSWER =
  'HTTP/1.1 200 Fine Thanks\r\n' +
  'X-Multi: a\r\n' +
  'X-Multi: b\r\n' +
  'X-Powered-By: upstream\r\n' +
  'Transfer-Encoding: chunked\r\n' +
  'Trailer: x-checksum\r\n' +
  '\r\n' +
  '5\r\nhello\r\n0\r\nx-checksum: 42\r\n\r\n';

let upstream: net.Server;
let gateway: Gateway;

before(async () => {
  // Answers every request head it reads with ANSWER (GETs only: no body to read).
  upstream = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (c: Buffer) => {
      buffered += c.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        socket.write(ANSWER);
      }
    });
    socket.on('error', () => undefined);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const plugins = await loadPlugins({
    dir: PLUGIN_DIR,
    sequence: ['add-headers'],
    config: { 'add-headers': { tag: 'gatehouse' } },
    logger: silent,
  });
  gateway = await startGateway(
    (upstream.address() as AddressInfo).port,
    [
      { prefix: '/plain/', plugins: [] },
      { prefix: '/hooks/', plugins: ['add-headers'] },
    ],
    createPluginPipeline({ plugins, logger: silent }),
  );
});

after(async () => {
  await gateway?.close();
  upstream?.close();
});

async function get(path: string): Promise<string> {
  const r = await rawRequest(gateway.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, {
    timeoutMs: 3000,
  });
  return r.raw;
}

for (const path of ['/plain/x', '/hooks/x'])
  test(`${path}: repeated fields, reason phrase and trailers relayed as received`, async () => {
    const raw = await get(path);
    assert.match(raw, /^HTTP\/1\.1 200 Fine Thanks\r\n/);
    // Two field lines, not one joined value.
    assert.match(raw, /\r\nX-Multi: a\r\n/i);
    assert.match(raw, /\r\nX-Multi: b\r\n/i);
    assert.doesNotMatch(raw, /X-Multi: a, b/i);
    assert.match(raw, /\r\n0\r\nx-checksum: 42\r\n\r\n$/i);
    assert.match(raw, /\r\n5\r\nhello\r\n/);
  });

test('the hooks’ fields win over the upstream’s of the same name, which is not sent twice', async () => {
  const raw = await get('/hooks/x');
  assert.match(raw, /\r\nx-powered-by: gatehouse\r\n/i);
  assert.match(raw, /\r\nx-plugin-response: yes\r\n/i);
  assert.equal(raw.match(/x-powered-by:/gi)?.length, 1);
});
