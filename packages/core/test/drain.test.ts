// Graceful drain of close(): no request that reached an open connection is lost. A kept-alive
// connection idle when draining starts may still send one request (answered with Connection: close);
// closing it at once would reset a client that is sending on it at that moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { proxyRoute, startEngine, startUpstream } from '../../../test/helpers/engine.js';
import { request, type ClientOutcome } from '../../../test/helpers/client.js';

type Outcome = ClientOutcome;

/** One GET through `agent`, telling a complete response, a cut one and a failed connection apart. */
function get(port: number, path: string, agent: http.Agent, timeoutMs = 5000): Promise<Outcome> {
  return request(port, path, { agent, timeoutMs });
}

/** A raw client connection that collects what the server sends. */
async function rawConnection(
  port: number,
): Promise<{ socket: net.Socket; next(ms?: number): Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  let buf = '';
  socket.on('data', (c: Buffer) => (buf += c.toString('latin1')));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return {
    socket,
    /** The next complete response (Content-Length or chunked), or what arrived until close / `ms`. */
    async next(ms = 3000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const head = buf.indexOf('\r\n\r\n');
        const length = /content-length: *(\d+)/i.exec(buf.slice(0, head));
        let end = -1;
        if (head !== -1 && length) end = head + 4 + Number(length[1]);
        else if (head !== -1 && /transfer-encoding: *chunked/i.test(buf.slice(0, head))) {
          const last = buf.indexOf('\r\n0\r\n\r\n', head);
          if (last !== -1) end = last + 7;
        }
        if ((end !== -1 && buf.length >= end) || socket.destroyed || Date.now() > deadline) {
          const out = end === -1 ? buf : buf.slice(0, end);
          buf = buf.slice(out.length);
          return out;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

test('close() on an engine without connections returns at once', async (t) => {
  const up = await startUpstream();
  t.after(() => up.close());
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  const started = Date.now();
  await gh.gh.close(10_000);
  assert.ok(Date.now() - started < 200, `close took ${Date.now() - started} ms`);
});

test('a request sent on an idle kept-alive connection just after close() began is answered, with Connection: close', async (t) => {
  const up = await startUpstream();
  t.after(() => up.close());
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  const { socket, next } = await rawConnection(gh.port);
  t.after(() => socket.destroy());
  socket.write(GET);
  const first = await next();
  assert.match(first, /^HTTP\/1\.1 200/);
  assert.match(first, /keep-alive/i);
  const closed = gh.gh.close(5000);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!socket.destroyed, 'the idle connection is still open during the grace');
  socket.write(GET);
  const second = await next();
  assert.match(second, /^HTTP\/1\.1 200/, `got ${JSON.stringify(second.slice(0, 80))}`);
  assert.match(second, /\r\nconnection: close\r\n/i);
  assert.match(second, /\r\n\r\n2\r\nok\r\n0\r\n\r\n$/);
  const started = Date.now();
  await closed;
  assert.ok(Date.now() - started < 1000, 'close() returns once the connection is gone');
});

test('a connection idle past the grace is closed; what hangs is destroyed at the drain timeout', async (t) => {
  const hung: http.ServerResponse[] = [];
  const up = await startUpstream((req, res) => {
    if (req.url === '/hang') hung.push(res);
    else res.end('ok');
  });
  t.after(async () => {
    for (const r of hung) r.destroy();
    await up.close();
  });
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  const idleClient = await rawConnection(gh.port);
  const idle = idleClient.socket;
  const hanging = (await rawConnection(gh.port)).socket;
  t.after(() => {
    idle.destroy();
    hanging.destroy();
  });
  idle.write(GET);
  assert.match(await idleClient.next(), /^HTTP\/1\.1 200/);
  hanging.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
  const deadline = Date.now() + 3000;
  while (hung.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(hung.length, 1, 'the hanging request reached the upstream');
  const idleClosedAt = once(idle, 'close').then(() => Date.now());
  const hangingClosedAt = once(hanging, 'close').then(() => Date.now());
  const started = Date.now();
  await gh.gh.close(1600); // grace: 800 ms
  const ended = Date.now();
  const idleMs = (await idleClosedAt) - started;
  const hangingMs = (await hangingClosedAt) - started;
  assert.ok(idleMs >= 700 && idleMs < 1400, `idle connection closed after ${idleMs} ms (grace 800)`);
  assert.ok(
    hangingMs >= 1500 && hangingMs < 2500,
    `hanging request cut after ${hangingMs} ms (timeout 1600)`,
  );
  assert.ok(ended - started < 2500, `close() took ${ended - started} ms`);
});

test(
  '200 keep-alive clients, close() mid-load: every request on an open connection gets a complete response',
  { timeout: 20_000 },
  async (t) => {
    let n = 0;
    const up = await startUpstream((_req, res) => {
      // Some answers are slow, so that requests are in flight when draining starts.
      if (++n % 10 === 0) setTimeout(() => res.end('slow'), 30);
      else res.end('ok');
    });
    t.after(() => up.close());
    const gh = await startEngine({
      servers: [{ routes: [proxyRoute(up.url)] }],
      limits: { keepAliveTimeoutMs: 10_000 },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    t.after(() => agent.destroy());
    const lost: string[] = [];
    let completed = 0;
    let completedAfterClose = 0;
    let toldToClose = 0;
    let closing = false;
    const hardStop = Date.now() + 10_000;
    const client = async (): Promise<void> => {
      while (Date.now() < hardStop) {
        const r = await get(gh.port, '/load', agent);
        if (r.complete && r.status === 200) {
          completed++;
          if (closing) completedAfterClose++;
          if (r.headers.connection === 'close') toldToClose++;
          continue;
        }
        // A request on a connection the engine had open (kept alive, or with a response begun) must not fail.
        if (r.reused || r.status !== undefined || !closing) {
          lost.push(`${r.reused ? 'reused' : 'new'} ${r.status ?? '-'} ${r.error ?? ''}`);
          continue;
        }
        // A new connection refused (or reset from the backlog) once the listener is closed: never accepted.
        return;
      }
    };
    const clients = Array.from({ length: 200 }, client);
    // Close mid-load, once the clients are well under way (bounded: a loaded machine is slower).
    const warm = Date.now() + 8000;
    while (completed < 400 && Date.now() < warm) await new Promise((r) => setTimeout(r, 20));
    closing = true;
    const started = Date.now();
    await gh.gh.close(5000);
    const closeMs = Date.now() - started;
    await Promise.all(clients);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} requests lost`);
    assert.ok(completed >= 400, `only ${completed} requests completed`);
    assert.ok(
      completedAfterClose > 0 && toldToClose > 0,
      'requests on kept-alive connections were answered while draining',
    );
    assert.ok(closeMs < 4500, `close() took ${closeMs} ms (drain timeout 5000)`);
  },
);

test('a response still queued for a client that is not reading is not finished: the keep-alive timeout does not cut it', async (t) => {
  // 4 MiB answered locally, more than the socket takes at once: most of it waits in the socket's
  // queue while the client reads nothing for 1 s. Were the response counted finished when its last
  // write was issued, the connection would look idle and the keep-alive sweep (300 ms) would destroy
  // it with the bytes still queued.
  const body = 'x'.repeat(4 * 1024 * 1024);
  const gh = await startEngine({
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body } }] }],
    limits: { keepAliveTimeoutMs: 300 },
  });
  t.after(() => gh.gh.close(1000));
  const socket = net.connect(gh.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  socket.pause();
  socket.write(GET);
  await new Promise((r) => setTimeout(r, 1000));
  const chunks: Buffer[] = [];
  let got = 0;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    got += c.length;
  });
  socket.resume();
  const deadline = Date.now() + 5000;
  while (got < body.length && !socket.destroyed && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  const all = Buffer.concat(chunks).toString('latin1');
  const head = all.indexOf('\r\n\r\n');
  assert.match(all.slice(0, head), /^HTTP\/1\.1 200 /);
  assert.equal(all.length - head - 4, body.length, 'the whole body arrived');
});

test('close() while answers are still queued for a client that is not reading: both pipelined answers arrive whole before the connection closes', async (t) => {
  // 8 MiB proxied, then a local answer pipelined behind it: both wait in the socket's queue (the
  // client reads nothing for 400 ms). A response whose writes have not gone out is not finished, so
  // draining must not take the connection for idle and cut them.
  const big = Buffer.alloc(8 * 1024 * 1024, 'b');
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': big.length });
    res.end(big);
  });
  t.after(() => up.close());
  const gh = await startEngine({
    servers: [
      {
        routes: [
          { match: { exact: '/local' }, action: { type: 'return', status: 200, body: 'local' } },
          proxyRoute(up.url),
        ],
      },
    ],
  });
  const socket = net.connect(gh.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /local HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  let closeDone = false;
  const closed = gh.gh.close(10_000).then(() => (closeDone = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!socket.destroyed && !closeDone, 'the connection with queued answers is kept while draining');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.resume();
  await once(socket, 'close');
  await closed;
  const all = Buffer.concat(chunks).toString('latin1');
  const firstHead = all.indexOf('\r\n\r\n');
  assert.match(all.slice(0, firstHead), /^HTTP\/1\.1 200 /);
  assert.match(all.slice(0, firstHead), /content-length: 8388608/i);
  const rest = all.slice(firstHead + 4 + big.length);
  assert.equal(
    all.slice(firstHead + 4, firstHead + 4 + big.length),
    big.toString('latin1'),
    'the 8 MiB body whole',
  );
  assert.match(rest, /^HTTP\/1\.1 200 /, `after the body: ${JSON.stringify(rest.slice(0, 60))}`);
  assert.match(rest, /\r\n\r\nlocal$/);
});
