// HTTP/1.1 conformance of the client-facing connection: framing, persistence, pipelining, idle and
// per-connection limits, early answers, half-close, aborts and refusals, as a client sees them on the
// wire. First pinned against node:http's server, so that our own connection (server/h1) answers the
// same way; where node did worse than nginx (a request pipelined after `Connection: close`, the close
// at max requests, lingering close) the tests hold nginx's behaviour. Raw sockets on 127.0.0.1; responses are
// framed as a client frames them (helpers/raw-client.ts), so a stray or missing body byte fails.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { RawConnection, type RawResponse } from '../helpers/raw-client.js';
import {
  eventually,
  proxyConfig,
  startEchoUpstream,
  startEngine,
  type EchoUpstream,
  type RunningEngine,
} from '../helpers/engine.js';
import type { LimitsConfig, RouteConfig } from '../../packages/core/src/config/types.js';

const LIMITS = {
  maxHeaderSize: 4096,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 10_000,
} satisfies LimitsConfig;
/** A second engine for the idle timeout and the per-connection request cap. */
const SHORT = { ...LIMITS, keepAliveTimeoutMs: 300, maxRequestsPerConnection: 3 } satisfies LimitsConfig;
const ROUTES: RouteConfig[] = [
  { match: { exact: '/missing' }, action: { type: 'return', status: 404, body: 'no such page' } },
  { match: { prefix: '/small/' }, action: { type: 'proxy', upstream: 'app' }, maxBodySize: 1024 },
];

/** A few fixed upstream answers; every other path gets the echo upstream's JSON `{method, url, bytes}`. */
function answer(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  switch (req.url) {
    case '/len':
      res.writeHead(200, { 'content-length': '5' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
      return true;
    case '/chunked': // no length: chunked on the upstream connection
      res.write('ab');
      res.end('cd');
      return true;
    case '/204':
      res.writeHead(204);
      res.end();
      return true;
    case '/304':
      res.writeHead(304, { etag: '"x"' });
      res.end();
      return true;
    case '/late-body': // the head at once, the body 600 ms later (a long poll, a stream)
      res.writeHead(200, { 'content-length': '4' });
      res.flushHeaders();
      setTimeout(() => res.end('late'), 600).unref();
      return true;
    case '/no-date':
      res.sendDate = false;
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
      return true;
  }
  return false;
}

let upstream: EchoUpstream;
let engine: RunningEngine;
let short: RunningEngine;

before(async () => {
  upstream = await startEchoUpstream(answer);
  engine = await startEngine(proxyConfig(upstream.url, LIMITS, ROUTES));
  short = await startEngine(proxyConfig(upstream.url, SHORT, ROUTES));
});
after(async () => {
  await engine.close();
  await short.close();
  await upstream.close();
});

/** A raw client connection, destroyed when the test ends. */
async function connect(t: TestContext, port = engine.port, allowHalfOpen = false): Promise<RawConnection> {
  const c = await RawConnection.open(port, { allowHalfOpen });
  t.after(() => c.close());
  return c;
}

const get = (path: string, fields = ''): string => `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${fields}\r\n`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The echo upstream's answer, relayed. */
function echo(r: RawResponse): { method: string; url: string; bytes: number } {
  assert.equal(r.status, 200, r.raw.slice(0, 200));
  return JSON.parse(r.body.toString('latin1')) as { method: string; url: string; bytes: number };
}

/** Complete requests the upstream received for `url`. */
const forwarded = (url: string): EchoUpstream['requests'] => upstream.requests.filter((q) => q.url === url);

function assertJsonError(r: RawResponse, status: number, code: string): void {
  assert.equal(r.status, status, r.raw.slice(0, 200));
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['content-length'], String(r.body.length));
  assert.equal(r.headers.connection?.toLowerCase(), 'close');
  const body = JSON.parse(r.body.toString('utf8')) as { error: string; status: number };
  assert.equal(body.error, code);
  assert.equal(body.status, status);
}

const connectionOf = (r: RawResponse): string | undefined => r.headers.connection?.toLowerCase();

describe('pipelining, split requests and many connections', { timeout: 30_000 }, () => {
  test('20 requests pipelined in one write (proxied GET, HEAD, a 404 route) → 20 answers in order; the connection stays open', async (t) => {
    const c = await connect(t);
    const kinds = Array.from({ length: 20 }, (_, i) => (['HEAD', 'missing', 'GET', 'GET'] as const)[i % 4]!);
    const requests = kinds.map((k, i) =>
      k === 'HEAD'
        ? 'HEAD /len HTTP/1.1\r\nHost: a.test\r\n\r\n'
        : get(k === 'GET' ? `/pipe/${i}?n=${i}` : '/missing'),
    );
    c.write(requests.join(''));
    for (const [i, k] of kinds.entries()) {
      const r = await c.next(k === 'HEAD' ? 'HEAD' : 'GET');
      assert.equal(r.version, 'HTTP/1.1');
      if (k === 'HEAD') {
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-length'], '5');
      } else if (k === 'missing') {
        assert.equal(r.status, 404);
        assert.equal(r.body.toString(), 'no such page');
      } else assert.deepEqual(echo(r), { method: 'GET', url: `/pipe/${i}?n=${i}`, bytes: 0 });
    }
    assert.equal(c.unread(), '', 'bytes after the 20th answer');
    assert.equal(c.closed, false);
    c.write(get('/pipe/after'));
    assert.equal(echo(await c.next()).url, '/pipe/after');
  });

  test('2,000 requests pipelined in one write (more than the 64 KiB the server holds before it stops reading) → all answered in order', async (t) => {
    const c = await connect(t);
    const n = 2000;
    let burst = '';
    for (let i = 0; i < n; i++) burst += get(`/burst/${i}`);
    assert.ok(burst.length > 64 * 1024);
    c.write(burst);
    for (let i = 0; i < n; i++) assert.equal(echo(await c.next()).url, `/burst/${i}`);
    assert.equal(c.unread(), '');
    assert.equal(c.closed, false);
  });

  test("a streamed response's head is relayed when it arrives, not held until its body begins", async (t) => {
    const c = await connect(t);
    const start = Date.now();
    c.write(get('/late-body'));
    assert.ok(
      await eventually(() => c.receivedBytes > 0, 400),
      'no byte of the response within 400 ms (the upstream sent its head at once)',
    );
    assert.ok(Date.now() - start < 500);
    const r = await c.next();
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'late');
  });

  test('a request written one byte at a time (2 ms apart) is answered normally', async (t) => {
    const c = await connect(t);
    const bytes =
      'POST /split?x=1 HTTP/1.1\r\nHost: a.test\r\nX-Split: yes\r\nContent-Length: 5\r\n\r\nhello';
    await c.writePieces([...bytes], 2);
    assert.deepEqual(echo(await c.next('POST')), { method: 'POST', url: '/split?x=1', bytes: 5 });
    const [seen] = forwarded('/split?x=1');
    assert.equal(seen?.body, 'hello');
    assert.equal(seen?.headers['x-split'], 'yes');
  });

  test('50 keep-alive connections × 20 sequential requests: all 1000 answered, in order, none closed', async (t) => {
    const started = Date.now();
    const answered = await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        const c = await connect(t);
        let ok = 0;
        for (let i = 0; i < 20; i++) {
          c.write(get(`/load/${n}/${i}`));
          if (echo(await c.next('GET', 5000)).url === `/load/${n}/${i}`) ok++;
        }
        assert.equal(c.closed, false, `connection ${n} was closed`);
        return ok;
      }),
    );
    assert.equal(
      answered.reduce((a, b) => a + b, 0),
      1000,
    );
    assert.ok(Date.now() - started < 5000, `1000 requests took ${Date.now() - started} ms`);
  });
});

describe('persistence: HTTP/1.0, Connection: close, keep-alive, limits', { timeout: 30_000 }, () => {
  test('HTTP/1.0 without Connection (and without Host): answered, then the server closes', async (t) => {
    const c = await connect(t);
    c.write('GET /len HTTP/1.0\r\n\r\n');
    const r = await c.next();
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello');
    assert.ok([undefined, 'close'].includes(connectionOf(r)), `Connection: ${r.headers.connection}`);
    assert.ok(await c.waitClosed(1000), 'an HTTP/1.0 connection was kept open');
  });

  test('HTTP/1.0 with Connection: keep-alive: answered with Connection: keep-alive and a length; a second request is served on it', async (t) => {
    const c = await connect(t);
    for (let i = 0; i < 2; i++) {
      c.write('GET /len HTTP/1.0\r\nHost: a.test\r\nConnection: keep-alive\r\n\r\n');
      const r = await c.next();
      assert.equal(r.body.toString(), 'hello');
      assert.equal(r.framing, 'length');
      assert.equal(connectionOf(r), 'keep-alive');
    }
    assert.equal(await c.waitClosed(200), false);
  });

  test('HTTP/1.1 with Connection: close: the answer carries Connection: close, then the server closes', async (t) => {
    const c = await connect(t);
    c.write(get('/len', 'Connection: close\r\n'));
    const r = await c.next();
    assert.equal(r.body.toString(), 'hello');
    assert.equal(connectionOf(r), 'close');
    assert.ok(await c.waitClosed(1000));
  });

  /** A Connection: close request with a second request behind it, in one write; the first answer. */
  async function pipelinedBehindClose(c: RawConnection, tag: string): Promise<RawResponse> {
    c.write(get(`/close-${tag}-first`, 'Connection: close\r\n') + get(`/close-${tag}-second`));
    return c.next();
  }

  test('a request pipelined behind a Connection: close request is neither answered nor forwarded', async (t) => {
    const c = await connect(t);
    const first = await pipelinedBehindClose(c, 'a');
    assert.equal(connectionOf(first), 'close');
    assert.ok(await c.waitClosed(1000));
    assert.equal(c.unread(), '', 'the second request was answered');
    assert.equal(forwarded('/close-a-second').length, 0);
  });

  test('the Connection: close request itself is answered normally when another is pipelined behind it (as nginx does)', async (t) => {
    const c = await connect(t);
    assert.equal(echo(await pipelinedBehindClose(c, 'b')).url, '/close-b-first');
  });

  test('HTTP/1.1 keep-alive by default: a Date header (added when the upstream sent none), Connection not close, open through a short pause; closed silently after keepAliveTimeoutMs idle', async (t) => {
    const c = await connect(t, short.port);
    c.write(get('/no-date'));
    const first = await c.next();
    assert.equal(first.body.toString(), 'ok');
    const date = first.headers.date ?? '';
    assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.ok(Math.abs(Date.parse(date) - Date.now()) < 5000, `Date: ${date}`);
    assert.notEqual(connectionOf(first), 'close');
    // node sends `Keep-Alive: timeout=<whole seconds>[, max=N]`: it must never promise more than the server keeps.
    const keepAlive = first.headers['keep-alive'];
    if (keepAlive !== undefined) {
      const m = /^timeout=(\d+)(, ?max=\d+)?$/.exec(keepAlive);
      assert.ok(m, `Keep-Alive: ${keepAlive}`);
      assert.ok(Number(m[1]) * 1000 <= SHORT.keepAliveTimeoutMs, `Keep-Alive: ${keepAlive}`);
    }
    await sleep(150);
    c.write(get('/idle-2'));
    assert.equal(echo(await c.next()).url, '/idle-2');
    const idleFrom = Date.now();
    const received = c.receivedBytes;
    assert.ok(await c.waitClosed(3000), 'idle connection still open after 3 s');
    const idle = c.closedAt - idleFrom;
    // node closes keepAliveTimeout + 1 s after the last response (its keep-alive buffer): ~1.3 s here.
    assert.ok(idle >= 250 && idle <= 1800, `closed after ${idle} ms idle (keepAliveTimeoutMs 300)`);
    assert.equal(c.receivedBytes, received, 'bytes were sent with the idle close');
    assert.equal(c.ended, true, 'the idle close was not a FIN');
    assert.equal(c.error, undefined);
  });

  /** Three requests on one connection of the engine with maxRequestsPerConnection 3. */
  async function threeRequests(
    t: TestContext,
    tag: string,
  ): Promise<{ c: RawConnection; answers: RawResponse[] }> {
    const c = await connect(t, short.port);
    const answers: RawResponse[] = [];
    for (let i = 0; i < 3; i++) {
      c.write(get(`/cap-${tag}-${i}`));
      answers.push(await c.next());
    }
    assert.deepEqual(
      answers.map((r) => echo(r).url),
      [0, 1, 2].map((i) => `/cap-${tag}-${i}`),
    );
    return { c, answers };
  }

  test('maxRequestsPerConnection 3: the third answer carries Connection: close; a fourth request is not forwarded and the connection closes', async (t) => {
    const { c, answers } = await threeRequests(t, 'a');
    assert.deepEqual(answers.map(connectionOf), ['keep-alive', 'keep-alive', 'close']);
    if (!(await c.waitClosed(100))) c.write(get('/cap-a-3'));
    assert.ok(await c.waitClosed(3000), 'still open 3 s after the last allowed request');
    const extra: RawResponse[] = [];
    while (c.unread() !== '') extra.push(await c.next('GET', 0));
    // node answers a fourth request 503 (empty chunked body, Connection: close); nginx has closed by then.
    assert.ok(
      extra.every((r) => r.status >= 400),
      `the fourth request was answered ${extra.map((r) => r.status).join(',')}`,
    );
    assert.equal(forwarded('/cap-a-3').length, 0);
  });

  test('maxRequestsPerConnection: the connection is closed right after the third answer (as nginx does)', async (t) => {
    const { c } = await threeRequests(t, 'b');
    assert.ok(await c.waitClosed(500), 'open 500 ms after an answer with Connection: close');
  });
});

describe('response framing towards the client', { timeout: 20_000 }, () => {
  test('HTTP/1.1: HEAD keeps the upstream Content-Length with no body; 204 and 304 have neither body nor Transfer-Encoding; chunked stays chunked; a length stays a length', async (t) => {
    const c = await connect(t);
    const sequence = [
      ['HEAD', '/len'],
      ['GET', '/204'],
      ['GET', '/304'],
      ['HEAD', '/chunked'],
      ['GET', '/chunked'],
      ['GET', '/len'],
    ] as const;
    c.write(sequence.map(([m, p]) => `${m} ${p} HTTP/1.1\r\nHost: a.test\r\n\r\n`).join(''));
    const r: RawResponse[] = [];
    // A body byte where none belongs would make the next response fail to parse.
    for (const [method] of sequence) r.push(await c.next(method));
    const [head, noContent, notModified, headChunked, chunked, length] = r as [
      RawResponse,
      RawResponse,
      RawResponse,
      RawResponse,
      RawResponse,
      RawResponse,
    ];
    assert.deepEqual(
      r.map((x) => x.status),
      [200, 204, 304, 200, 200, 200],
    );
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.headers['transfer-encoding'], undefined);
    for (const x of [noContent, notModified]) {
      assert.equal(x.headers['transfer-encoding'], undefined, x.raw);
      assert.ok([undefined, '0'].includes(x.headers['content-length']), x.raw);
    }
    assert.equal(notModified.headers.etag, '"x"');
    assert.equal(headChunked.headers['content-length'], undefined);
    assert.equal(chunked.framing, 'chunked');
    assert.equal(chunked.headers['content-length'], undefined);
    assert.equal(chunked.body.toString(), 'abcd');
    assert.equal(length.framing, 'length');
    assert.equal(length.headers['content-length'], '5');
    assert.equal(length.body.toString(), 'hello');
    assert.equal(c.unread(), '');
    assert.equal(c.closed, false);
  });

  test('HTTP/1.0: a chunked upstream answer arrives close-delimited (no chunk framing), with or without keep-alive, and the connection closes', async (t) => {
    for (const fields of ['', 'Connection: keep-alive\r\n']) {
      const c = await connect(t);
      c.write(`GET /chunked HTTP/1.0\r\nHost: a.test\r\n${fields}\r\n`);
      const r = await c.next();
      assert.equal(r.status, 200);
      assert.equal(r.framing, 'close', r.raw);
      assert.equal(r.body.toString(), 'abcd');
      assert.notEqual(connectionOf(r), 'keep-alive');
      assert.ok(await c.waitClosed(1000));
    }
  });
});

describe('request bodies', { timeout: 20_000 }, () => {
  test('bodies reach the upstream byte-exact: Content-Length, chunked with extensions and a trailer, empty chunked, chunked in three slow pieces', async (t) => {
    const c = await connect(t);
    const binary = Buffer.concat([
      Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256)),
      Buffer.from('\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n'),
    ]);
    const chunks = [
      Buffer.from('a'),
      Buffer.from('line\r\n0\r\n\r\nX-Not: a-trailer\r\n'),
      Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
      Buffer.alloc(255, 'z'),
    ];
    const chunked = Buffer.concat([
      ...chunks.flatMap((d, i) => [
        Buffer.from(`${i === 3 ? 'FF' : d.length.toString(16)}${i === 1 ? ';name=value' : ''}\r\n`),
        d,
        Buffer.from('\r\n'),
      ]),
      Buffer.from('0\r\nX-Trail: yes\r\n\r\n'),
    ]);
    const post = (url: string, framing: string): string =>
      `POST ${url} HTTP/1.1\r\nHost: a.test\r\n${framing}\r\n\r\n`;
    const te = 'Transfer-Encoding: chunked';
    const cases: Array<[url: string, writes: Array<string | Buffer>, body: Buffer]> = [
      [
        '/body-length',
        [Buffer.concat([Buffer.from(post('/body-length', `Content-Length: ${binary.length}`)), binary])],
        binary,
      ],
      [
        '/body-chunked',
        [Buffer.concat([Buffer.from(post('/body-chunked', te)), chunked])],
        Buffer.concat(chunks),
      ],
      ['/body-empty', [`${post('/body-empty', te)}0\r\n\r\n`], Buffer.alloc(0)],
      [
        '/body-slow',
        [`${post('/body-slow', te)}5\r\nhel`, 'lo\r\n6\r\n wor', 'ld\r\n0\r\n\r\n'],
        Buffer.from('hello world'),
      ],
    ];
    for (const [url, writes, body] of cases) {
      await c.writePieces(writes, 100);
      assert.deepEqual(echo(await c.next('POST')), { method: 'POST', url, bytes: body.length });
      const seen = forwarded(url);
      assert.equal(seen.length, 1, url);
      assert.ok(Buffer.from(seen[0]!.body, 'latin1').equals(body), `${url}: the upstream got other bytes`);
    }
    // The trailer never becomes a header field upstream.
    assert.equal(forwarded('/body-chunked')[0]!.headers['x-trail'], undefined);
    assert.equal(forwarded('/smuggled').length, 0);
  });
});

describe('early answers, half-close and aborted clients', { timeout: 20_000 }, () => {
  /** POST to /small/ (1 KiB limit) with a 100 MB Content-Length: the head and 64 KiB in one write, then
   *  16 KiB writes for up to 200 ms, or until the first answer byte when `stopOnAnswer` (as curl does). */
  async function uploadPastLimit(t: TestContext, stopOnAnswer: boolean): Promise<RawConnection> {
    const c = await connect(t, engine.port, true);
    const head = 'POST /small/upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 104857600\r\n\r\n';
    c.write(Buffer.concat([Buffer.from(head), Buffer.alloc(65536, 'u')]));
    const end = Date.now() + 200;
    while (Date.now() < end && !c.socket.destroyed && !(stopOnAnswer && c.receivedBytes > 0)) {
      c.write(Buffer.alloc(16384, 'u'));
      await sleep(stopOnAnswer ? 10 : 1);
    }
    if (!c.socket.destroyed) c.end();
    return c;
  }

  test('413 from Content-Length while the client is still uploading: a client that stops on the answer reads the whole JSON 413, then the connection closes', async (t) => {
    const c = await uploadPastLimit(t, true);
    assertJsonError(await c.next('POST'), 413, 'payload_too_large');
    assert.ok(await c.waitClosed(2000));
    assert.equal(forwarded('/small/upload').length, 0);
  });

  test('413 while the client keeps uploading for 200 ms: its writes are not reset, the whole 413 arrives, then a clean close (nginx lingering close)', async (t) => {
    const c = await uploadPastLimit(t, false);
    assert.equal(c.error, undefined, 'the upload was reset');
    assertJsonError(await c.next('POST'), 413, 'payload_too_large');
    assert.ok(await c.waitClosed(3000));
    assert.equal(c.ended, true);
  });

  test('half-close after a request: a locally answered one gets its whole answer; a proxied one is never cut mid-answer; connection and upstream exchange are released', async (t) => {
    const local = await connect(t);
    local.write(get('/missing'));
    local.end();
    const r = await local.next();
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'no such page');
    assert.ok(await local.waitClosed(1000));

    const proxied = await connect(t);
    proxied.write(get('/half-close-a'));
    proxied.end();
    assert.ok(await proxied.waitClosed(1000), 'a half-closed connection was left open');
    // A FIN while a proxied exchange is under way aborts it (nginx's 499, node's abort): nothing, or all of it.
    if (proxied.receivedBytes > 0) assert.equal(echo(await proxied.next('GET', 0)).url, '/half-close-a');
    assert.equal(proxied.unread(), '');
    assert.ok(await eventually(() => engine.gh.upstreamStats().running === 0, 3000));
  });

  test('a client that disconnects mid-body: nothing is forwarded (the body is buffered first), the next client is served', async (t) => {
    // Request bodies are read whole before they take an upstream connection (issue 22), so a body
    // cut short never reaches the upstream; a streamed one (requestBuffering: false) cut short is
    // aborted upstream (packages/core/test/abort-phases.test.ts).
    const url = '/abort-mid-body';
    let arrived = false;
    const onRequest = (req: http.IncomingMessage): void => {
      if (req.url === url) arrived = true;
    };
    upstream.server.on('request', onRequest);
    t.after(() => upstream.server.off('request', onRequest));
    const c = await connect(t);
    c.write(`POST ${url} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(1000)}`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(arrived, false, 'the upstream saw the request before its body was complete');
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(arrived, false);
    assert.equal(forwarded(url).length, 0);
    assert.ok(await eventually(() => engine.gh.upstreamStats().running === 0, 3000));
    const next = await connect(t);
    next.write(get('/after-abort'));
    assert.equal(echo(await next.next()).url, '/after-abort');
  });
});

describe('refusals', { timeout: 20_000 }, () => {
  test('Expect with an unknown expectation → 417 without a body, nothing forwarded; the body is skipped and the connection serves the next request', async (t) => {
    const c = await connect(t);
    c.write(
      'POST /expect-odd HTTP/1.1\r\nHost: a.test\r\nExpect: something\r\nContent-Length: 3\r\n\r\nabc' +
        get('/after-expect'),
    );
    const refused = await c.next('POST');
    assert.equal(refused.status, 417, refused.raw);
    assert.equal(refused.body.length, 0);
    assert.equal(echo(await c.next()).url, '/after-expect');
    assert.equal(forwarded('/expect-odd').length, 0);
  });

  test('an upgrade request with a body (Content-Length or chunked) → 400 JSON, closed, nothing forwarded', async (t) => {
    for (const framing of [
      'Content-Length: 5\r\n\r\nhello',
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ]) {
      const c = await connect(t);
      c.write(
        `GET /upgrade-body HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${framing}`,
      );
      assertJsonError(await c.next(), 400, 'bad_request');
      assert.ok(await c.waitClosed(1000));
    }
    assert.equal(forwarded('/upgrade-body').length, 0);
  });

  test('methods: PATCH, PROPFIND and PURGE are forwarded as sent; an unknown token (FOO) → 400 JSON, closed, nothing forwarded', async (t) => {
    const c = await connect(t);
    for (const method of ['PATCH', 'PROPFIND', 'PURGE']) {
      c.write(`${method} /method-${method} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
      assert.deepEqual(echo(await c.next(method)), { method, url: `/method-${method}`, bytes: 0 });
    }
    const foo = await connect(t);
    foo.write('FOO /method-FOO HTTP/1.1\r\nHost: a.test\r\n\r\n');
    assertJsonError(await foo.next(), 400, 'bad_request');
    assert.ok(await foo.waitClosed(1000));
    assert.equal(forwarded('/method-FOO').length, 0);
  });

  test('a head of exactly maxHeaderSize bytes passes; one whose target, names and values alone are a byte over → 431 JSON', async (t) => {
    const start = 'GET /head-size HTTP/1.1\r\nHost: a.test\r\nX-Fill: ';
    const fill = LIMITS.maxHeaderSize - start.length - 4;
    const exact = `${start}${'f'.repeat(fill)}\r\n\r\n`;
    assert.equal(exact.length, LIMITS.maxHeaderSize);
    // node counts only these bytes (not the method, version, ': ' or CRLFs); any count of the head agrees on both.
    const counted = '/head-size'.length + 'Host'.length + 'a.test'.length + 'X-Fill'.length;
    const over = `${start}${'f'.repeat(LIMITS.maxHeaderSize + 1 - counted)}\r\n\r\n`;
    const c = await connect(t);
    c.write(exact);
    assert.equal(echo(await c.next()).url, '/head-size');
    assert.equal(forwarded('/head-size')[0]?.headers['x-fill']?.length, fill);
    c.write(over);
    assertJsonError(await c.next(), 431, 'header_too_large');
    assert.ok(await c.waitClosed(1000));
    assert.equal(forwarded('/head-size').length, 1);
  });

  test('bytes that are not HTTP (a TLS ClientHello, a bare word) → 400 JSON bad_request with Connection: close, then closed', async (t) => {
    const clientHello = Buffer.concat([Buffer.from('1603010200010001fc0303', 'hex'), Buffer.alloc(32, 7)]);
    for (const bytes of [clientHello, Buffer.from('hello\r\n\r\n')]) {
      const c = await connect(t);
      c.write(bytes);
      assertJsonError(await c.next(), 400, 'bad_request');
      assert.ok(await c.waitClosed(1000));
    }
  });
});
