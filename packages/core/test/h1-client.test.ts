// The engine's HTTP/1.1 upstream client (upstream/h1) against raw upstreams on 127.0.0.1: framing,
// interim responses, long heads and trailers, backpressure, early answers, stale keep-alive retry,
// queueing at the connection limit, desynchronised connections, request-splitting fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { H1Pool } from '../src/upstream/h1/pool.js';
import { headerText, type RawHeaders, type UpstreamRequest } from '../src/upstream/dispatcher.js';

interface Result {
  status: number;
  headers: string[];
  body: string;
  trailers: string[] | null;
  interim: number[];
}

/** A raw upstream: `onRequest(head, socket)` is called per request head received (body appended as it comes). */
async function rawUpstream(onData: (socket: net.Socket, text: string, connection: number) => void) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    const id = ++connections;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      onData(s, buf, id);
    });
    s.on('error', () => undefined);
    // Let the handler reset what it consumed.
    (s as net.Socket & { consume: (n: number) => void }).consume = (n) => (buf = buf.slice(n));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function consume(s: net.Socket, n: number): void {
  (s as net.Socket & { consume: (n: number) => void }).consume(n);
}

function pool(port: number, extra: Partial<ConstructorParameters<typeof H1Pool>[0]> = {}): H1Pool {
  return new H1Pool({
    host: '127.0.0.1',
    port,
    tls: undefined,
    connectTimeoutMs: 2000,
    lookup: undefined,
    maxQueued: 1024,
    queueTimeoutMs: 10_000,
    maxConnections: 4,
    keepAliveTimeoutMs: 4000,
    maxHeaderSize: 65536,
    ...extra,
  });
}

function send(p: H1Pool, req: Partial<UpstreamRequest> & { path: string }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const r: Result = { status: 0, headers: [], body: '', trailers: null, interim: [] };
    p.dispatch(
      { method: 'GET', headers: ['host', 'up'], body: null, idempotent: true, headersTimeout: 3000, ...req },
      {
        onHeaders(status: number, raw: RawHeaders) {
          if (status < 200) {
            r.interim.push(status);
            return true;
          }
          r.status = status;
          r.headers = raw.map(headerText);
          return true;
        },
        onData(chunk) {
          r.body += chunk.toString('latin1');
          return true;
        },
        onComplete(trailers) {
          r.trailers = trailers;
          resolve(r);
        },
        onError: reject,
      },
    );
  });
}

const OK = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

test('interim 103 then 200; a head of 100 fields; chunked trailers; HEAD with a length but no body', async () => {
  const many = Array.from({ length: 100 }, (_, i) => `x-f${i}: ${i}\r\n`).join('');
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    consume(s, end + 4);
    const line = text.slice(0, text.indexOf('\r\n'));
    if (line.startsWith('GET /interim'))
      s.write(`HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${OK('done')}`);
    else if (line.startsWith('GET /many')) s.write(`HTTP/1.1 200 OK\r\n${many}content-length: 2\r\n\r\nok`);
    else if (line.startsWith('GET /trailers'))
      s.write(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n',
      );
    else if (line.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    const a = await send(p, { path: '/interim' });
    assert.deepEqual([a.interim, a.status, a.body], [[103], 200, 'done']);
    const b = await send(p, { path: '/many' });
    assert.equal(b.headers.length, 202);
    assert.equal(b.headers[198], 'x-f99');
    assert.equal(b.body, 'ok');
    const c = await send(p, { path: '/trailers' });
    assert.equal(c.body, 'abc');
    assert.deepEqual(c.trailers, ['x-sum', '42']);
    const d = await send(p, { path: '/', method: 'HEAD' });
    assert.deepEqual([d.status, d.body], [200, '']);
    // All on one kept-alive connection.
    assert.equal(up.connections(), 1);
    assert.deepEqual(p.stats, { connected: 1, free: 1, pending: 0, running: 0 });
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('request bodies: Content-Length streamed as is, unknown length chunked, Buffer bodies get their real length', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = text.slice(0, end);
    const cl = /content-length: (\d+)/i.exec(head);
    let total: number;
    if (cl) total = end + 4 + Number(cl[1]);
    else {
      const fin = text.indexOf('0\r\n\r\n', end);
      if (fin === -1) return;
      total = fin + 5;
    }
    if (text.length < total) return;
    seen.push(text.slice(0, total));
    consume(s, total);
    s.write(OK('ok'));
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    await send(p, {
      path: '/cl',
      method: 'POST',
      headers: ['host', 'up', 'content-length', '6'],
      body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      idempotent: false,
    });
    await send(p, {
      path: '/chunked',
      method: 'POST',
      headers: ['host', 'up'],
      body: Readable.from([Buffer.from('hello'), Buffer.from(' world')]),
      idempotent: false,
    });
    await send(p, {
      path: '/buffer',
      method: 'PUT',
      headers: ['host', 'up', 'content-length', '999'],
      body: Buffer.from('xyz'),
      idempotent: false,
    });
    assert.match(seen[0]!, /\r\ncontent-length: 6\r\n\r\nabcdef$/);
    assert.match(seen[1]!, /\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n$/);
    assert.match(seen[2]!, /\r\ncontent-length: 3\r\n\r\nxyz$/);
    assert.doesNotMatch(seen[2]!, /999/);
    assert.equal(up.connections(), 1);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('a header field, target or method that would split the request is refused before anything is written', async () => {
  let received = '';
  const up = await rawUpstream((_s, text) => (received = text));
  const p = pool(up.port);
  try {
    for (const [path, headers, method] of [
      ['/', ['host', 'up', 'x-a', 'v\r\nx-injected: 1']],
      ['/', ['host', 'up', 'bad name', 'v']],
      ['/', ['host', 'up', 'x-a', 'v\nGET / HTTP/1.1']],
      ['/', ['host', 'up', 'content-length', '5x']],
      ['/a b', ['host', 'up']],
      ['/a\r\nx-injected: 1', ['host', 'up']],
      ['/', ['host', 'up'], 'GET /x'],
    ] as Array<[string, string[], string?]>) {
      const err = await send(p, { path, headers, method: method ?? 'GET' }).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      assert.equal(err?.code, 'UPSTREAM_INVALID_REQUEST');
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, '');
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('backpressure: a paused handler gets no data until it resumes, in order, and completion waits too', async () => {
  const body = 'x'.repeat(200_000);
  const up = await rawUpstream((s, text) => {
    if (text.includes('\r\n\r\n')) s.write(OK(body));
  });
  const p = pool(up.port);
  try {
    const result = await new Promise<{ got: number; pausedData: number; completed: boolean }>(
      (resolve, reject) => {
        let got = 0;
        let paused = false;
        let pausedData = 0;
        let resume: () => void = () => undefined;
        p.dispatch(
          { method: 'GET', path: '/', headers: ['host', 'up'], body: null },
          {
            onHeaders(_s, _h, r) {
              resume = r;
              paused = true;
              setTimeout(() => {
                paused = false;
                resume();
              }, 100);
              return false;
            },
            onData(chunk) {
              if (paused) pausedData++;
              got += chunk.length;
              // Pause again once, mid-body.
              if (got > 50_000 && got - chunk.length <= 50_000) {
                paused = true;
                setTimeout(() => {
                  paused = false;
                  resume();
                }, 50);
                return false;
              }
              return true;
            },
            onComplete() {
              resolve({ got, pausedData, completed: !paused });
            },
            onError: reject,
          },
        );
      },
    );
    assert.deepEqual(result, { got: body.length, pausedData: 0, completed: true });
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('an upstream that answers before the request body is sent: the answer is relayed, the connection not reused', async () => {
  const up = await rawUpstream((s, text) => {
    if (text.includes('\r\n\r\n') && !text.includes('answered')) {
      s.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\n\r\nbig!`);
      consume(s, 0);
      (s as net.Socket & { answered?: boolean }).answered = true;
    }
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    const slow = new Readable({ read() {} });
    slow.push('part');
    const r = await send(p, {
      path: '/upload',
      method: 'POST',
      headers: ['host', 'up', 'content-length', '100000'],
      body: slow,
      idempotent: false,
    });
    assert.deepEqual([r.status, r.body], [413, 'big!']);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(p.stats.connected, 0, 'the half-sent request leaves the connection unusable');
    const again = await send(p, { path: '/next' });
    assert.equal(again.status, 413);
    assert.equal(up.connections(), 2);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('stale keep-alive: a reused connection closed before any answer is retried once for a bodyless GET, never for a POST', async () => {
  // Each connection answers its first request and drops the second unanswered, as an upstream that
  // timed the connection out at the moment the request arrived.
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    const cl = /content-length: (\d+)/i.exec(text.slice(0, end));
    if (text.length < end + 4 + (cl ? Number(cl[1]) : 0)) return;
    consume(s, text.length);
    const n = ((s as net.Socket & { n?: number }).n = ((s as net.Socket & { n?: number }).n ?? 0) + 1);
    if (n === 1) s.write(OK('one'));
    else s.destroy();
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    assert.equal((await send(p, { path: '/a' })).body, 'one');
    assert.equal((await send(p, { path: '/b' })).body, 'one', 'retried on a new connection');
    assert.equal(up.connections(), 2);
    const post = await send(p, {
      path: '/c',
      method: 'POST',
      headers: ['host', 'up'],
      body: Buffer.from('x'),
      idempotent: false,
    }).catch((e: Error) => e);
    assert.ok(post instanceof Error, 'a POST is not sent twice');
    assert.equal(up.connections(), 2);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('at the connection limit requests queue in order; aborting a queued request removes it', async () => {
  const order: string[] = [];
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    const path = text.slice(4, text.indexOf(' ', 4));
    consume(s, end + 4);
    order.push(path);
    setTimeout(() => s.write(OK(path)), 20);
  });
  const p = pool(up.port, { maxConnections: 2 });
  try {
    let aborter: ((e?: Error) => void) | undefined;
    const aborted = new Promise<Error>((resolve) => {
      p.dispatch(
        { method: 'GET', path: '/x', headers: ['host', 'up'], body: null },
        {
          onConnect: (a) => (aborter = a),
          onError: resolve,
          onComplete: () => resolve(new Error('completed')),
        },
      );
    });
    const all = ['/1', '/2', '/3', '/4', '/5'].map((path) => send(p, { path }));
    // '/x' took the first connection; abort a queued one instead: '/5' is still waiting.
    assert.equal(p.stats.pending, 4);
    aborter!(new Error('client gone'));
    assert.equal((await aborted).message, 'client gone');
    const bodies = (await Promise.all(all)).map((r) => r.body);
    assert.deepEqual(bodies, ['/1', '/2', '/3', '/4', '/5']);
    assert.deepEqual(
      order.filter((o) => o !== '/x'),
      ['/1', '/2', '/3', '/4', '/5'],
    );
    assert.ok(up.connections() <= 3);
    assert.deepEqual(p.stats.pending, 0);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('bytes beyond the response desynchronise the connection: the answer is delivered, the connection dropped', async () => {
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    consume(s, end + 4);
    s.write(OK('first') + OK('smuggled'));
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    assert.equal((await send(p, { path: '/a' })).body, 'first');
    assert.equal(
      (await send(p, { path: '/b' })).body,
      'first',
      'a fresh connection, not the smuggled answer',
    );
    assert.equal(up.connections(), 2);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('read timeout before the head and between body reads; close() waits for running requests', async () => {
  const up = await rawUpstream((s, text) => {
    if (!text.includes('\r\n\r\n')) return;
    consume(s, text.length);
    if (text.startsWith('GET /stall-head')) return;
    if (text.startsWith('GET /stall-body'))
      return void s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    setTimeout(() => s.write(OK('late')), 100);
  });
  const p = pool(up.port);
  try {
    const e1 = await send(p, { path: '/stall-head', headersTimeout: 150 }).catch((e: { code?: string }) => e);
    assert.equal((e1 as { code?: string }).code, 'UPSTREAM_HEADERS_TIMEOUT');
    const e2 = await send(p, { path: '/stall-body', bodyTimeout: 150 }).catch((e: { code?: string }) => e);
    assert.equal((e2 as { code?: string }).code, 'UPSTREAM_BODY_TIMEOUT');
    const running = send(p, { path: '/slow' });
    const closed = p.close();
    assert.equal((await running).body, 'late');
    await closed;
    assert.equal(p.stats.connected, 0);
    await assert.rejects(send(p, { path: '/after' }), /pool closed/);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('long Content-Length bodies are read raw: exact bytes, the connection reused after, short bodies and extra bytes caught', async () => {
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const up = await rawUpstream((s, text) => {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    const path = text.slice(4, text.indexOf(' ', 4));
    consume(s, end + 4);
    const head = `HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n`;
    if (path === '/big') {
      // In uneven pieces, the head glued to the first one.
      s.write(Buffer.concat([Buffer.from(head), big.subarray(0, 1000)]));
      s.write(big.subarray(1000, 70_000));
      setTimeout(() => s.write(big.subarray(70_000)), 10);
    } else if (path === '/small') s.write(OK('after'));
    else if (path === '/short') {
      s.write(Buffer.concat([Buffer.from(head), big.subarray(0, 50_000)]));
      setTimeout(() => s.end(), 10);
    } else if (path === '/extra') s.write(Buffer.concat([Buffer.from(head), big, Buffer.from(OK('x'))]));
  });
  const p = pool(up.port, { maxConnections: 1 });
  const get = (path: string) =>
    new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      p.dispatch(
        { method: 'GET', path, headers: ['host', 'up'], body: null },
        {
          onData: (c) => (parts.push(c), true),
          onComplete: () => resolve(Buffer.concat(parts)),
          onError: reject,
        },
      );
    });
  try {
    assert.ok((await get('/big')).equals(big));
    assert.equal(
      (await get('/small')).toString(),
      'after',
      'the parser was set up again for the next response',
    );
    assert.equal(up.connections(), 1);
    await assert.rejects(get('/short'), /before the whole body/);
    assert.ok((await get('/extra')).equals(big));
    assert.equal((await get('/small')).toString(), 'after');
    assert.equal(up.connections(), 3, 'the connection that sent extra bytes was dropped');
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('a reset after a whole response, while the handler is paused, still delivers it', async () => {
  const up = await rawUpstream((s, text) => {
    if (!text.includes('\r\n\r\n')) return;
    consume(s, text.length);
    s.write(OK('complete'), () => setTimeout(() => s.resetAndDestroy(), 10));
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      let got = '';
      p.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'up'], body: null },
        {
          onHeaders(_s, _h, resume) {
            setTimeout(resume, 100); // paused past the reset
            return false;
          },
          onData: (c) => ((got += c.toString()), true),
          onComplete: () => resolve(got),
          onError: reject,
        },
      );
    });
    assert.equal(body, 'complete');
    // The reset is seen at once, or (a paused socket does not read) as soon as the pool reads it again.
    for (let i = 0; i < 50 && p.stats.connected !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(p.stats.connected, 0, 'the reset connection is not kept');
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('a resume callback of a finished exchange does not wake the next one on the same connection', async () => {
  const up = await rawUpstream((s, text) => {
    if (!text.includes('\r\n\r\n')) return;
    consume(s, text.length);
    s.write(OK('body'));
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    let stale: (() => void) | undefined;
    await new Promise<void>((resolve, reject) =>
      p.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'up'], body: null },
        { onHeaders: (_s, _h, r) => ((stale = r), true), onComplete: () => resolve(), onError: reject },
      ),
    );
    const early = await new Promise<boolean>((resolve, reject) => {
      let resumed = false;
      let dataBeforeResume = false;
      p.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'up'], body: null },
        {
          onHeaders(_s, _h, resume) {
            setTimeout(() => stale!(), 10);
            setTimeout(() => {
              resumed = true;
              resume();
            }, 50);
            return false;
          },
          onData: () => ((dataBeforeResume ||= !resumed), true),
          onComplete: () => resolve(dataBeforeResume),
          onError: reject,
        },
      );
    });
    assert.equal(early, false);
    assert.equal(up.connections(), 1, 'both exchanges on one connection');
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('bodies delimited by the end of the connection (HTTP/1.0, Connection: close) complete at the FIN; 204 and 304 have none', async () => {
  const up = await rawUpstream((s, text) => {
    if (!text.includes('\r\n\r\n')) return;
    const path = text.slice(4, text.indexOf(' ', 4));
    consume(s, text.length);
    if (path === '/http10') s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nold style body');
    else if (path === '/close') {
      s.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npart one, ');
      setTimeout(() => s.end('part two'), 20);
    } else if (path === '/204') s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else if (path === '/304') s.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n');
  });
  const p = pool(up.port, { maxConnections: 1 });
  try {
    assert.equal((await send(p, { path: '/http10' })).body, 'old style body');
    assert.equal((await send(p, { path: '/close' })).body, 'part one, part two');
    assert.equal(up.connections(), 2, 'neither connection was kept');
    const a = await send(p, { path: '/204' });
    const b = await send(p, { path: '/304' });
    assert.deepEqual([a.status, a.body, b.status, b.body], [204, '', 304, '']);
    assert.equal(up.connections(), 3, '204 and 304 kept the connection');
  } finally {
    await p.destroy();
    await up.close();
  }
});
