// End-to-end: HTTP/1.1 proxying semantics through the real engine on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { request } from '../../../test/helpers/client.js';
import { proxyRoute, startEngine, startUpstream } from '../../../test/helpers/engine.js';
import { rawRequest } from '../../../test/helpers/raw-http.js';

test('GET is proxied with the path and query byte-exact and the upstream Host by default', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const target = '/a%2Fb/c%25d/e+f;x=1?q=a%2Fb&r=1+2&s=%25';
  const r = await request(gh.url + target);
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok');
  assert.equal(up.seen[0]!.url, target);
  assert.equal(up.seen[0]!.headers.host, `127.0.0.1:${up.port}`);
  assert.equal(up.seen[0]!.headers['x-forwarded-for'], '127.0.0.1');
});

test('Host is preserved or templated when the route says so', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          { match: { prefix: '/keep' }, action: { type: 'proxy', upstream: up.url, host: 'preserve' } },
          {
            match: { prefix: '/tpl' },
            action: { type: 'proxy', upstream: up.url, host: { template: 'api.$host' } },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await request(gh.url + '/keep', { headers: { host: 'example.com:8443' } });
  await request(gh.url + '/tpl', { headers: { host: 'Example.COM:8443' } });
  assert.equal(up.seen[0]!.headers.host, 'example.com:8443');
  assert.equal(up.seen[1]!.headers.host, 'api.example.com');
});

test('hop-by-hop headers are stripped both ways, including those named in Connection', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, {
      connection: 'x-secret-hop, keep-alive',
      'x-secret-hop': 'must-not-reach-client',
      'keep-alive': 'timeout=99',
      'proxy-authenticate': 'Basic',
      'x-kept': 'yes',
    });
    res.end('ok');
  });
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const raw = (
    await rawRequest(
      gh.port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close, X-Hop-A\r\nX-Hop-A: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic abc\r\nProxy-Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nX-End: 2\r\n\r\n',
      { timeoutMs: 2000 },
    )
  ).raw;
  const h = up.seen[0]!.headers;
  for (const name of ['x-hop-a', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection'])
    assert.equal(h[name], undefined, `${name} must not reach the upstream`);
  assert.equal(h['x-end'], '2');
  assert.equal(h['upgrade-insecure-requests'], '1');
  // The client's Connection: close does not close the upstream connection (keep-alive is per hop).
  assert.notEqual(h.connection, 'close');
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(raw, /x-secret-hop/i);
  assert.doesNotMatch(raw, /proxy-authenticate/i);
  assert.doesNotMatch(raw, /timeout=99/);
  assert.match(raw, /x-kept: yes/i);
});

test('a Connection: close client does not close the pooled upstream connection', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  for (let i = 0; i < 5; i++) await request(gh.url + '/', { headers: { connection: 'close' } });
  assert.equal(up.seen.length, 5);
  assert.equal(up.connections(), 1, 'one reused upstream connection');
});

test('Content-Length and chunked framing are preserved in both directions', async (t) => {
  const up = await startUpstream((req, res, body) => {
    if (req.url === '/chunked') {
      res.write('a');
      res.end('b');
    } else {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    }
  });
  // Streamed request bodies (requestBuffering: false) keep their framing; buffered ones are sent with
  // Content-Length (body-buffer.test.ts).
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url, { requestBuffering: false })] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const withLength = (
    await rawRequest(
      gh.port,
      'POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
      { timeoutMs: 2000 },
    )
  ).raw;
  assert.match(withLength, /content-length: 5/i);
  assert.doesNotMatch(withLength, /transfer-encoding/i);
  assert.equal(up.seen[0]!.headers['content-length'], '5');
  // A streamed chunked body stays chunked. (A chunked body that has fully arrived before the upstream
  // connection is written may be re-framed with Content-Length by undici: same bytes, no re-chunking.)
  const chunked = (
    await rawRequest(
      gh.port,
      'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n',
      { timeoutMs: 2000, later: [[150, '0\r\n\r\n']] },
    )
  ).raw;
  assert.equal(up.seen[1]!.headers['transfer-encoding'], 'chunked');
  assert.equal(up.seen[1]!.body.toString(), 'abc');
  assert.match(chunked, /transfer-encoding: chunked/i);
  assert.match(chunked, /\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n$/);
});

test('HEAD, 204 and 304 carry no body; trailers pass through', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/204') {
      res.writeHead(204);
      return res.end();
    }
    if (req.url === '/304') {
      res.writeHead(304, { etag: '"x"' });
      return res.end();
    }
    if (req.url === '/trailer') {
      res.writeHead(200, { trailer: 'x-checksum' });
      res.write('data');
      res.addTrailers({ 'x-checksum': 'abc' });
      return res.end();
    }
    res.writeHead(200, { 'content-length': '5' });
    res.end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const head = await request(gh.url + '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5');
  assert.equal(head.body.length, 0);
  assert.equal((await request(gh.url + '/204')).status, 204);
  const nm = await request(gh.url + '/304');
  assert.equal(nm.status, 304);
  assert.equal(nm.headers.etag, '"x"');
  const tr = await new Promise<Record<string, string>>((resolve, reject) => {
    http
      .get(gh.url + '/trailer', { agent: false, headers: { te: 'trailers' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.trailers as Record<string, string>));
      })
      .on('error', reject);
  });
  assert.equal(tr['x-checksum'], 'abc');
});

test('Expect: 100-continue gets a 100 from the proxy, then the body flows; over the limit → 413 at once', async (t) => {
  const up = await startUpstream((_req, res, body) => res.end(`got ${body.length}`));
  const gh = await startEngine({ servers: [{ routes: [{ ...proxyRoute(up.url), maxBodySize: 100 }] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ok = await new Promise<string>((resolve, reject) => {
    const req = http.request(gh.url + '/', {
      method: 'PUT',
      agent: false,
      headers: { expect: '100-continue', 'content-length': '10' },
    });
    req.on('continue', () => req.end('0123456789'));
    req.on('response', (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(`${res.statusCode} ${s}`));
    });
    req.on('error', reject);
  });
  assert.equal(ok, '200 got 10');
  assert.equal(up.seen[0]!.headers.expect, undefined);
  const tooBig = (
    await rawRequest(
      gh.port,
      'PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n',
      { timeoutMs: 1500 },
    )
  ).raw;
  assert.match(tooBig, /^HTTP\/1\.1 413/);
  assert.doesNotMatch(tooBig, /100 Continue/);
  assert.match(tooBig, /"error":"payload_too_large"/);
});

test('X-Forwarded-*, Via and Forwarded follow the header policy', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [{ routes: [proxyRoute(up.url)] }],
    headers: {
      xForwardedFor: 'append',
      xForwardedProto: 'set',
      xForwardedHost: 'replace',
      via: 'gatehouse',
      forwarded: true,
    },
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const r = await request(gh.url + '/', {
    headers: { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-host': 'spoofed', host: 'front.example' },
  });
  const h = up.seen[0]!.headers;
  assert.equal(h['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'front.example');
  assert.equal(h.via, '1.1 gatehouse');
  assert.equal(h.forwarded, 'for=127.0.0.1;proto=http;host="front.example"');
  assert.equal(r.headers.via, '1.1 gatehouse');
});

test('route setHeaders: values are templates and an empty value removes the header', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      {
        routes: [
          proxyRoute(up.url, {
            setHeaders: [
              { name: 'x-uri', value: '$uri|$args|$request_method' },
              { name: 'x-client-cert', value: '$ssl_client_escaped_cert' },
              { name: 'x-user', value: '$http_x_user' },
            ],
          }),
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await request(gh.url + '/p%61th?a=1', { headers: { 'x-client-cert': 'forged', 'x-user': '' } });
  const h = up.seen[0]!.headers;
  assert.equal(h['x-uri'], '/path|a=1|GET');
  assert.equal(
    h['x-client-cert'],
    undefined,
    'a client-sent copy is dropped and the empty value is not sent',
  );
  assert.equal(h['x-user'], undefined);
});

test('error bodies: 404 no route, 502 refused, 504 timeout, 413 body too large, 400 bad target', async (t) => {
  const slow = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 2000));
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { prefix: '/refused' },
            action: { type: 'proxy', upstream: `http://127.0.0.1:${deadPort}` },
          },
          {
            match: { prefix: '/slow' },
            action: { type: 'proxy', upstream: slow.url, options: { readTimeoutMs: 300 } },
          },
          { match: { prefix: '/small' }, action: { type: 'proxy', upstream: slow.url }, maxBodySize: 4 },
        ],
      },
    ],
    log: { level: 'info', access: true },
  });
  t.after(async () => {
    await gh.close();
    await slow.close();
  });
  const notFound = await request(gh.url + '/nothing');
  assert.equal(notFound.status, 404);
  assert.deepEqual(JSON.parse(notFound.text), {
    error: 'not_found',
    message: 'no route matches this request',
    status: 404,
  });
  const refused = await request(gh.url + '/refused');
  assert.equal(refused.status, 502);
  assert.equal(JSON.parse(refused.text).error, 'upstream_connect_failed');
  assert.equal(refused.headers['content-type'], 'application/json');
  const timeout = await request(gh.url + '/slow');
  assert.equal(timeout.status, 504);
  assert.equal(JSON.parse(timeout.text).error, 'upstream_timeout');
  const big = await request(gh.url + '/small', { method: 'POST', body: 'too long' });
  assert.equal(big.status, 413);
  assert.equal(JSON.parse(big.text).error, 'payload_too_large');
  const bad = (await rawRequest(gh.port, 'GET /a/%00 HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 2000 })).raw;
  assert.match(bad, /^HTTP\/1\.1 400/);
  assert.match(bad, /"error":"invalid_target"/);
  // The access log names the cause.
  await new Promise((r) => setTimeout(r, 50));
  const causes = gh.logs
    .map((l) => JSON.parse(l))
    .filter((l) => 'uri' in l)
    .map((l) => `${l.status} ${l.error}`);
  assert.ok(causes.includes('502 upstream_connect_failed'), causes.join(','));
  assert.ok(causes.includes('504 upstream_timeout'));
  assert.ok(causes.includes('413 payload_too_large'));
});

test('chunked body over the limit is cut with 413 without reading it all', async (t) => {
  const up = await startUpstream(undefined, {});
  const gh = await startEngine({ servers: [{ routes: [{ ...proxyRoute(up.url), maxBodySize: 1024 }] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      gh.url + '/',
      { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } },
      (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: s }));
      },
    );
    req.on('error', () => undefined);
    const chunk = Buffer.alloc(512, 'x');
    let n = 0;
    const pump = (): void => {
      if (n++ > 2000 || req.destroyed) return;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
    setTimeout(() => reject(new Error('no answer')), 5000).unref();
  });
  assert.equal(reply.status, 413);
  assert.equal(JSON.parse(reply.body).error, 'payload_too_large');
});

test('client abort aborts the upstream request and frees its connection', async (t) => {
  let upstreamClosed = false;
  const up = await startUpstream(
    (req, res) => {
      res.writeHead(200);
      res.write('start');
      req.socket.on('close', () => (upstreamClosed = true));
    },
    { stream: true },
  );
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  await new Promise<void>((resolve) => {
    const req = http.get(gh.url + '/', { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => undefined);
  });
  const deadline = Date.now() + 3000;
  while (!upstreamClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(upstreamClosed, 'upstream connection closed after the client went away');
  const stats = gh.gh.upstreamStats();
  assert.equal(stats.running, 0);
});

test('upstream abort mid-response ends the client response (no hang, not complete-looking)', async (t) => {
  const up = await startUpstream(
    (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    },
    { stream: true },
  );
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url)] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const outcome = await new Promise<string>((resolve) => {
    http
      .get(gh.url + '/', { agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve('end'));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('error'));
      })
      .on('error', () => resolve('error'));
  });
  assert.notEqual(outcome, 'end');
});

test('absolute-form targets are forwarded in origin form with the target authority as Host', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({ servers: [{ routes: [proxyRoute(up.url, { host: 'preserve' })] }] });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const raw = (
    await rawRequest(
      gh.port,
      'GET http://other.example/x?y=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      { timeoutMs: 2000 },
    )
  ).raw;
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.equal(up.seen[0]!.url, '/x?y=1');
});

test('send timeout: a request body that stalls fails with 504; a slow but steady one passes', async (t) => {
  const up = await startUpstream((_req, res, body) => res.end(`got ${body.length}`));
  const gh = await startEngine({
    servers: [
      {
        routes: [
          {
            match: { prefix: '/' },
            // The send timeout bounds a streamed body; a buffered one is the minimum data rate's.
            action: {
              type: 'proxy',
              upstream: up.url,
              requestBuffering: false,
              options: { sendTimeoutMs: 1500 },
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
  const stalled = (
    await rawRequest(gh.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789', {
      timeoutMs: 5000,
    })
  ).raw;
  assert.match(stalled, /^HTTP\/1\.1 504/);
  assert.match(stalled, /"error":"upstream_timeout"/);
  const steady = (
    await rawRequest(
      gh.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nConnection: close\r\n\r\n0123456789',
      {
        timeoutMs: 3000,
        later: [
          [200, '0123456789'],
          [400, '0123456789'],
          [600, '0123456789'],
        ],
      },
    )
  ).raw;
  assert.match(steady, /^HTTP\/1\.1 200/);
  assert.match(steady, /got 40$/);
});

test('an upstream with keepAlive: false gets a new connection per request', async (t) => {
  const up = await startUpstream();
  let connections = 0;
  up.server.on('connection', () => connections++);
  const gh = await startEngine({
    servers: [{ routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'u' } }] }],
    upstreams: { u: { url: up.url, keepAlive: false } },
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  for (let i = 0; i < 3; i++) assert.equal((await request(gh.url + '/')).status, 200);
  assert.equal(connections, 3);
});

test('the access log counts each request’s and response’s own bytes, also for requests pipelined in one read', async (t) => {
  const up = await startUpstream((_req, res, body) => res.end(`got ${body.length}`));
  const gh = await startEngine({
    servers: [{ routes: [proxyRoute(up.url)] }],
    log: { level: 'warn', access: true },
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const first = 'GET /one HTTP/1.1\r\nHost: a\r\n\r\n';
  const second = 'POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Pad: padding\r\n\r\nhello';
  const received: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(gh.port, '127.0.0.1', () => s.write(first + second));
    s.on('data', (d: Buffer) => {
      received.push(d);
      if (Buffer.concat(received).toString('latin1').endsWith('got 5')) s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
  // The two answers as the client got them, split where the second status line begins.
  const text = Buffer.concat(received).toString('latin1');
  const at = text.indexOf('HTTP/1.1', 1);
  assert.ok(at > 0, text);
  const lines = () =>
    gh.logs
      .filter((l) => l.includes('"log":"access"'))
      .map((l) => JSON.parse(l) as { uri: string; bytes_in: number; bytes_out: number });
  const deadline = Date.now() + 2000;
  while (lines().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const [one, two] = lines();
  assert.deepEqual(
    [one, two].map((l) => [l!.uri, l!.bytes_in, l!.bytes_out]),
    [
      ['/one', first.length, at],
      ['/two', second.length, text.length - at],
    ],
  );
});
