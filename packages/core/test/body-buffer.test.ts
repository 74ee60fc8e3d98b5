// Request-body buffering (issue 22): the body is read whole before it takes an upstream connection —
// in memory up to `bodyBufferMemory`, then in an unlinked temporary file — and sent with
// Content-Length; a slow upload holds no upstream connection; no descriptor outlives the exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import {
  startEngine,
  startUpstream,
  type Upstream,
  type RunningEngine as Engine,
} from '../../../test/helpers/engine.js';
import { rawText } from '../../../test/helpers/raw-http.js';
import { request } from '../../../test/helpers/client.js';

/** Descriptors of this process still open on a body-buffer file (unlinked: "(deleted)"). */
function openBufferFiles(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes('gatehouse-body-')) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function setup(
  limits: Record<string, number> = {},
  upstreamOptions: Record<string, number> = {},
): Promise<{ up: Upstream; gh: Engine; close(): Promise<void> }> {
  const up = await startUpstream((_req, res, body) => {
    res.writeHead(200, { 'x-sha': sha(body), 'x-len': String(body.length) });
    res.end('ok');
  });
  const gh = await startEngine({
    limits: { bodyBufferMemory: 16_384, ...limits },
    upstreams: { u: { url: up.url, ...upstreamOptions } },
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'u' } }] }],
  });
  return {
    up,
    gh,
    close: async () => {
      await gh.close();
      await up.close();
    },
  };
}

test('a chunked upload is sent upstream with Content-Length (memory and temporary file)', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  // Small: kept in memory.
  const small = await rawText(
    s.gh.port,
    'POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n',
    2000,
    [[100, '2\r\nde\r\n0\r\n\r\n']],
  );
  assert.match(small, /^HTTP\/1\.1 200/);
  assert.equal(s.up.seen[0]!.headers['content-length'], '5');
  assert.equal(s.up.seen[0]!.headers['transfer-encoding'], undefined);
  assert.equal(s.up.seen[0]!.body.toString(), 'abcde');
  // Large: 600 KiB in 40 chunks, over the memory bound: a temporary file.
  const body = randomBytes(600 * 1024);
  const reply = await new Promise<{ status: number; headers: Record<string, string> }>((resolve, reject) => {
    const socket = net.connect(s.gh.port, '127.0.0.1');
    socket.on('error', reject);
    let raw = '';
    socket.on('data', (c: Buffer) => (raw += c.toString('latin1')));
    socket.on('close', () => {
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(head.slice(9, 12)), headers });
    });
    socket.write(
      'POST /large HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    );
    let at = 0;
    const step = body.length / 40;
    const next = (): void => {
      if (at >= body.length) return void socket.write('0\r\n\r\n');
      const piece = body.subarray(at, at + step);
      at += step;
      socket.write(`${piece.length.toString(16)}\r\n`);
      socket.write(piece);
      socket.write('\r\n');
      setImmediate(next);
    };
    next();
  });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-len'], String(body.length));
  assert.equal(reply.headers['x-sha'], sha(body));
  assert.equal(s.up.seen[1]!.headers['content-length'], String(body.length));
  assert.equal(s.up.seen[1]!.headers['transfer-encoding'], undefined);
  assert.ok(await until(() => openBufferFiles() === 0), 'the temporary file is closed');
});

test('a slow upload holds no upstream connection while it arrives', async (t) => {
  const s = await setup({}, { maxConnections: 1, queueTimeoutMs: 2000 });
  t.after(() => s.close());
  const slow = net.connect(s.gh.port, '127.0.0.1');
  slow.on('error', () => undefined);
  let answer = '';
  slow.on('data', (c: Buffer) => (answer += c.toString('latin1')));
  slow.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\nConnection: close\r\n\r\n');
  slow.write(Buffer.alloc(30_000, 97)); // over the memory bound: the rest of the wait is on a file
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.up.connections(), 0, 'no upstream connection while the body arrives');
  const started = Date.now();
  const fast = await request(`${s.gh.url}/fast`);
  assert.equal(fast.status, 200);
  assert.ok(Date.now() - started < 1000, 'the other request did not wait for the upload');
  slow.write(Buffer.alloc(10_000, 97));
  assert.ok(await until(() => /x-len: 40000/i.test(answer)), 'the upload is answered once complete');
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.equal(s.up.seen.find((x) => x.url === '/slow')!.body.length, 40_000);
  slow.destroy();
});

test('a client that leaves mid-upload: the temporary file is closed, nothing reaches the upstream', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const c = net.connect(s.gh.port, '127.0.0.1');
  c.on('error', () => undefined);
  c.write('POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
  c.write(Buffer.alloc(50_000, 98));
  assert.ok(await until(() => openBufferFiles() === 1), 'the body went to a temporary file');
  c.destroy();
  assert.ok(await until(() => openBufferFiles() === 0), 'the temporary file is closed');
  assert.equal(s.up.seen.length, 0);
  assert.equal((await request(`${s.gh.url}/after`)).status, 200);
});

test('bodyBufferMaxSize, no max body size: a chunked body growing past it is refused (413); a declared larger one is streamed', async (t) => {
  const s = await setup({ bodyBufferMemory: 1024, bodyBufferMaxSize: 4096 });
  t.after(() => s.close());
  const chunk = 'a'.repeat(3000);
  const refused = await rawText(
    s.gh.port,
    `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nbb8\r\n${chunk}\r\nbb8\r\n${chunk}\r\n0\r\n\r\n`,
  );
  assert.match(refused, /^HTTP\/1\.1 413/);
  assert.match(refused, /"error":"payload_too_large"/);
  const streamed = await request(`${s.gh.url}/d`, { method: 'POST', body: Buffer.alloc(6000, 99) });
  assert.equal(streamed.status, 200);
  assert.equal(streamed.headers['x-len'], '6000');
  assert.equal(s.up.seen.filter((x) => x.url === '/c').length, 0);
});

test('a chunked body past bodyBufferMaxSize is spooled up to the max body size (nginx), refused past it', async (t) => {
  const s = await setup({ bodyBufferMemory: 1024, bodyBufferMaxSize: 4096, maxBodySize: 20_000 });
  t.after(() => s.close());
  const chunk = 'a'.repeat(3000);
  const chunked = (n: number): string =>
    `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${`bb8\r\n${chunk}\r\n`.repeat(n)}0\r\n\r\n`;
  const spooled = await rawText(s.gh.port, chunked(3));
  assert.match(spooled, /^HTTP\/1\.1 200/);
  assert.match(spooled, /x-len: 9000/i);
  const seen = s.up.seen.find((x) => x.url === '/c')!;
  assert.equal(seen.headers['content-length'], '9000', 'sent with Content-Length');
  assert.equal(seen.headers['transfer-encoding'], undefined);
  const refused = await rawText(s.gh.port, chunked(7));
  assert.match(refused, /^HTTP\/1\.1 413/);
  assert.equal(s.up.seen.length, 1, 'the body over the max body size never reached the upstream');
  assert.ok(await until(() => openBufferFiles() === 0), 'the temporary files are closed');
});

test('requestBuffering: false streams the body as it arrives (chunked stays chunked)', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          { match: { prefix: '/' }, action: { type: 'proxy', upstream: up.url, requestBuffering: false } },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const raw = await rawText(
    gh.port,
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  );
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.equal(up.seen[0]!.headers['transfer-encoding'], 'chunked');
});
