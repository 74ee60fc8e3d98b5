// Aborts at every phase of an exchange (issue 22): the client goes away — and, separately, the
// upstream does — with the head partly sent, queued for a pool connection, the body half sent, the
// response head received, the body half relayed, during a plugin hook, during an auth_request and
// during an upgrade. After each: no error escaped to the process (single process, the engine in
// this one), the pool has no connection left running or queued, and the next request works.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { createPluginPipeline, loadPlugins } from '../src/pipeline/index.js';
import { PLUGIN_DIR, silent } from './fixtures/plugins/harness.js';

const escaped: unknown[] = [];
const onEscape = (err: unknown): void => void escaped.push(err);

let upstream: http.Server;
let upstreamPort: number;
const upstreamSockets = new Set<net.Socket>();
/** Responses the upstream holds (mode=hold) until the test releases them. */
const held: http.ServerResponse[] = [];
let gh: Gatehouse;
let port: number;

/** The upstream's behaviour is chosen by the request's `mode` query parameter. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const mode = new URL(req.url ?? '/', 'http://x').searchParams.get('mode') ?? 'ok';
  if (mode === 'reset-mid-upload') {
    req.once('data', () => req.socket.destroy());
    return;
  }
  req.resume();
  req.on('end', () => {
    switch (mode) {
      case 'hold':
        held.push(res);
        return;
      case 'slow-head':
        setTimeout(() => res.end('late'), 400);
        return;
      case 'half-body':
        res.writeHead(200, { 'content-length': 20_000 });
        res.write(Buffer.alloc(10_000, 97));
        setTimeout(() => res.end(Buffer.alloc(10_000, 98)), 400);
        return;
      case 'reset-before-head':
        req.socket.destroy();
        return;
      case 'reset-after-head':
        res.writeHead(200, { 'content-length': 100 });
        res.flushHeaders();
        setTimeout(() => req.socket.destroy(), 50);
        return;
      case 'reset-mid-body':
        res.writeHead(200, { 'content-length': 20_000 });
        res.write(Buffer.alloc(10_000, 97));
        setTimeout(() => req.socket.destroy(), 50);
        return;
      default:
        res.end('ok');
    }
  });
}

before(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  upstream = http.createServer(upstreamHandler);
  upstream.on('connection', (s: net.Socket) => {
    upstreamSockets.add(s);
    s.on('close', () => upstreamSockets.delete(s));
  });
  upstream.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    socket.on('error', () => undefined);
    const mode = new URL(req.url ?? '/', 'http://x').searchParams.get('mode');
    if (mode === 'reset-before-101') return void socket.destroy();
    setTimeout(() => {
      if (socket.destroyed) return;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
      if (mode === 'reset-in-tunnel') setTimeout(() => socket.destroy(), 100);
      else socket.pipe(socket);
    }, 100);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamPort = (upstream.address() as AddressInfo).port;
  const plugins = await loadPlugins({
    sequence: ['stall', 'accumulate-request'],
    dir: PLUGIN_DIR,
    logger: silent,
  });
  const proxy = (extra: Record<string, unknown> = {}) => ({
    type: 'proxy' as const,
    upstream: 'up',
    ...extra,
  });
  const base = `http://127.0.0.1:${upstreamPort}`;
  gh = createGatehouse({
    logger: silent,
    pipeline: createPluginPipeline({ plugins, logger: silent, hookTimeoutMs: 2000 }),
    config: {
      limits: { headersTimeoutMs: 3000, requestTimeoutMs: 5000 },
      upstreams: { up: { url: `http://127.0.0.1:${upstreamPort}`, maxConnections: 2, queueTimeoutMs: 3000 } },
      servers: [
        {
          listen: [{ address: '127.0.0.1', port: 0 }],
          routes: [
            { match: { prefix: '/stream' }, action: proxy({ requestBuffering: false }) },
            { match: { prefix: '/plugin-stall' }, action: proxy(), plugins: ['stall'] },
            { match: { prefix: '/plugin-data' }, action: proxy(), plugins: ['accumulate-request'] },
            // The subrequest's upstream behaviour is in its URL (the subrequest carries no query).
            { match: { prefix: '/authed-slow' }, action: proxy(), authRequest: { uri: '/_auth-slow' } },
            { match: { prefix: '/authed-reset' }, action: proxy(), authRequest: { uri: '/_auth-reset' } },
            {
              match: { prefix: '/_auth-slow' },
              internal: true,
              action: { type: 'proxy', upstream: `${base}/auth?mode=slow-head`, target: 'url' },
            },
            {
              match: { prefix: '/_auth-reset' },
              internal: true,
              action: { type: 'proxy', upstream: `${base}/auth?mode=reset-before-head`, target: 'url' },
            },
            { match: { prefix: '/' }, action: proxy() },
          ],
        },
      ],
    },
  });
  await gh.start();
  port = gh.addresses()[0]!.port;
});

after(async () => {
  for (const r of held) r.destroy();
  await gh.close(500);
  for (const s of upstreamSockets) s.destroy();
  upstream.close();
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw client: connect, send `first`, call `abortWhen` with what it reads; destroyed by the step. */
function client(first: string | Buffer): {
  socket: net.Socket;
  received: () => string;
  closed: Promise<void>;
} {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(first));
  let got = '';
  socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, received: () => got, closed: once(socket, 'close').then(() => undefined) };
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Hold both pool connections with requests the upstream does not answer; returns their clients. */
async function fillPool(): Promise<net.Socket[]> {
  const holders = [
    client('GET /?mode=hold HTTP/1.1\r\nHost: x\r\n\r\n'),
    client('GET /?mode=hold HTTP/1.1\r\nHost: x\r\n\r\n'),
  ];
  assert.ok(await until(() => held.length >= 2), 'the pool is full');
  return holders.map((h) => h.socket);
}

async function releasePool(holders: net.Socket[]): Promise<void> {
  for (const h of holders) h.destroy();
  for (const r of held.splice(0)) r.destroy();
}

/** The engine is healthy: nothing escaped, no pool connection running or queued, a request works. */
async function healthy(what: string): Promise<void> {
  assert.deepEqual(escaped, [], `${what}: an error escaped to the process`);
  assert.ok(
    await until(() => {
      const s = gh.upstreamStats();
      return s.running === 0 && s.pending === 0;
    }),
    `${what}: pool connections left running or queued: ${JSON.stringify(gh.upstreamStats())}`,
  );
  const status = await new Promise<number>((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/next', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', () => resolve(0));
  });
  assert.equal(status, 200, `${what}: the next request failed`);
}

type Step = () => Promise<void>;

const POST = (path: string, length: number, sent: number) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n${'z'.repeat(sent)}`;

/** The client goes away at each phase. */
const clientAborts: Record<string, Step> = {
  'head partly sent': async () => {
    const c = client('GET /?mode=ok HTTP/1.1\r\nHost: x\r\nX-Par');
    await sleep(50);
    c.socket.destroy();
  },
  'queued for a pool connection (buffered body)': async () => {
    const holders = await fillPool();
    const c = client(POST('/?mode=ok', 10, 10));
    assert.ok(await until(() => gh.upstreamStats().pending === 1), 'queued');
    c.socket.destroy();
    assert.ok(await until(() => gh.upstreamStats().pending === 0), 'left the queue');
    await releasePool(holders);
  },
  'queued for a pool connection (streamed body, the issue repro)': async () => {
    const holders = await fillPool();
    const c = client(POST('/stream?mode=ok', 10, 3));
    assert.ok(await until(() => gh.upstreamStats().pending === 1), 'queued');
    c.socket.destroy();
    assert.ok(await until(() => gh.upstreamStats().pending === 0), 'left the queue');
    await releasePool(holders);
  },
  'body half sent (buffered, in a temporary file)': async () => {
    const c = client(POST('/?mode=ok', 100_000, 50_000));
    await sleep(100);
    c.socket.destroy();
  },
  'body half sent (streamed)': async () => {
    const c = client(POST('/stream?mode=ok', 100_000, 50_000));
    await sleep(100);
    c.socket.destroy();
  },
  'response head received': async () => {
    const c = client('GET /?mode=half-body HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => c.received().includes('HTTP/1.1 200')));
    c.socket.destroy();
  },
  'body half relayed': async () => {
    const c = client('GET /?mode=half-body HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => c.received().length > 5000));
    c.socket.destroy();
  },
  'waiting for the response head': async () => {
    const c = client('GET /?mode=slow-head HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    c.socket.destroy();
  },
  'during a plugin hook': async () => {
    const c = client('GET /plugin-stall?mode=ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    c.socket.destroy();
  },
  'during a plugin data hook, body half sent': async () => {
    const c = client(POST('/plugin-data?mode=ok', 100_000, 50_000));
    await sleep(100);
    c.socket.destroy();
  },
  'during an auth_request': async () => {
    const c = client('GET /authed-slow?mode=ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    c.socket.destroy();
  },
  'during an upgrade, before the 101': async () => {
    const c = client(
      'GET /ws?mode=echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    await sleep(30);
    c.socket.destroy();
  },
  'during an upgrade, in the tunnel': async () => {
    const c = client(
      'GET /ws?mode=echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.ok(await until(() => c.received().includes('101')));
    c.socket.write('ping');
    c.socket.destroy();
  },
};

/** The upstream goes away at each phase; the client gets an error answer or a cut, never a hang. */
const upstreamAborts: Record<string, Step> = {
  'before the response head': async () => {
    const c = client('GET /?mode=reset-before-head HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => c.received().includes('HTTP/1.1 502')), c.received());
    c.socket.destroy();
  },
  'after the response head': async () => {
    const c = client('GET /?mode=reset-after-head HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
  },
  'body half relayed': async () => {
    const c = client('GET /?mode=reset-mid-body HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    assert.ok(c.received().length > 5000);
  },
  'body half sent upstream (streamed)': async () => {
    const c = client(POST('/stream?mode=reset-mid-upload', 100_000, 50_000));
    assert.ok(await until(() => c.received().startsWith('HTTP/1.1 502')), c.received());
    c.socket.destroy();
  },
  'while a buffered body is sent': async () => {
    const c = client(POST('/?mode=reset-mid-upload', 100_000, 100_000));
    assert.ok(await until(() => c.received().startsWith('HTTP/1.1 502')), c.received());
    c.socket.destroy();
  },
  'during an auth_request': async () => {
    const c = client('GET /authed-reset?mode=ok HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => c.received().startsWith('HTTP/1.1 500')), c.received());
    c.socket.destroy();
  },
  'during a plugin data hook': async () => {
    const c = client(POST('/plugin-data?mode=reset-mid-upload', 100_000, 100_000));
    assert.ok(await until(() => /^HTTP\/1\.1 5\d\d/.test(c.received())), c.received());
    c.socket.destroy();
  },
  'during an upgrade, before the 101': async () => {
    const c = client(
      'GET /ws?mode=reset-before-101 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    await c.closed;
  },
  'during an upgrade, in the tunnel': async () => {
    const c = client(
      'GET /ws?mode=reset-in-tunnel HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 101/);
  },
};

for (const [phase, step] of Object.entries(clientAborts))
  test(`the client aborts: ${phase}`, { timeout: 10_000 }, async () => {
    await step();
    await healthy(phase);
  });

for (const [phase, step] of Object.entries(upstreamAborts))
  test(`the upstream aborts: ${phase}`, { timeout: 10_000 }, async () => {
    await step();
    await healthy(phase);
  });
