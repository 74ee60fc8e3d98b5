// Regression (issue 22): a client that goes away while its upload waits in the upstream pool's queue
// destroyed a request stream nobody listened to yet, and its 'error' ended the process. The repro of
// the issue, run against the CLI in a child process: the process must still answer afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startUpstream } from '../../../test/helpers/engine.js';
import { request } from '../../../test/helpers/client.js';
import { spawnServe } from '../../../test/helpers/cli.js';

function openUpload(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
      resolve(s);
    });
    s.on('error', reject);
  });
}

test('a client aborting an upload queued for a pool connection does not end the process', async () => {
  const upstream = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'gh-queued-abort-'));
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      log: { level: 'info' },
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0 }],
          // Streamed bodies: the upload holds the only pool connection while it trickles.
          routes: [
            { match: { prefix: '/' }, action: { type: 'proxy', upstream: 'u', requestBuffering: false } },
          ],
        },
      ],
      upstreams: { u: { url: upstream.url, maxConnections: 1 } },
    }),
  );
  const { proc, port } = await spawnServe(file);
  let exited = false;
  proc.on('exit', () => (exited = true));
  try {
    const first = await openUpload(port);
    const second = await openUpload(port);
    await new Promise((r) => setTimeout(r, 300));
    second.destroy();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(exited, false, 'the process exited');
    first.destroy();
    const r = await request(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
  } finally {
    proc.kill('SIGKILL');
    if (!exited) await once(proc, 'exit');
    await upstream.close();
  }
});
