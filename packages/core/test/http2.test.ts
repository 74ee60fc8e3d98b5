// HTTP/2 through the real engine: node:http2 and `curl --http2` clients on a TLS listener (h2 and http/1.1
// on the same port via ALPN) proxied to HTTP/1.1 upstreams, streamed bodies both ways, concurrent streams,
// JSON errors, and a cleartext prior-knowledge (h2c) listener.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { ServerConfig } from '../src/config/types.js';
import {
  proxyRoute,
  startEngine,
  startUpstream,
  type RunningEngine as Engine,
  type Upstream,
} from '../../../test/helpers/engine.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
after(() => pki.cleanup());

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on `session`; `body` chunks are written with backpressure. */
function h2request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer[],
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: !body });
    const chunks: Buffer[] = [];
    let status = 0;
    let head: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      head = h;
      status = h[':status'] as number;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.setTimeout(15_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    if (body) {
      void (async () => {
        for (const c of body) if (!stream.write(c)) await new Promise((r) => stream.once('drain', r));
        stream.end();
      })();
    }
  });
}

function connect(
  url: string,
  opts: http2.SecureClientSessionOptions = {},
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, { ca: pki.ca.certPem, ...opts });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const sha = (b: Buffer | Buffer[]) => {
  const h = createHash('sha256');
  for (const c of Array.isArray(b) ? b : [b]) h.update(c);
  return h.digest('hex');
};

// Upstream: /api/echo streams the request body back; /api/big streams 6 MiB; anything else answers with
// connection-specific headers an HTTP/2 response must not carry.
const BIG = randomBytes(6 * 1024 * 1024);
let upstream: Upstream;
let upstreamRequests = 0; // startUpstream does not record in stream mode
let engine: Engine;
let url: string;

before(async () => {
  upstream = await startUpstream(
    (req, res) => {
      upstreamRequests++;
      if (req.url === '/api/echo') {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'x-request-te': String(req.headers['transfer-encoding']),
        });
        req.pipe(res);
        return;
      }
      req.resume();
      req.on('end', () => {
        if (req.url === '/api/big') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          let off = 0;
          const pump = () => {
            while (off < BIG.length) {
              const chunk = BIG.subarray(off, off + 64 * 1024);
              off += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end();
          };
          return pump();
        }
        res.writeHead(200, {
          'content-type': 'text/plain',
          connection: 'keep-alive, x-hop',
          'keep-alive': 'timeout=5',
          'x-hop': 'nominated by Connection',
          'proxy-connection': 'keep-alive',
          'x-path': req.url ?? '',
          'x-proto': String(req.headers['x-forwarded-proto'] ?? ''),
          'x-http-version': req.httpVersion,
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(`hello ${req.url}`);
      });
    },
    { stream: true },
  );
  const routes: ServerConfig['routes'] = [
    { ...proxyRoute(upstream.url), match: { prefix: '/api/' } },
    { ...proxyRoute('http://127.0.0.1:1'), match: { prefix: '/down' } },
  ];
  engine = await startEngine({
    log: { level: 'error' },
    headers: { xForwardedProto: 'set' },
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0, tls: true }],
        tls: { certificate: { cert: pki.server.chainPem, key: pki.server.keyPem } },
        routes,
      },
    ],
  });
  url = `https://127.0.0.1:${engine.port}`;
});

after(async () => {
  await engine?.close();
  await upstream?.close();
});

test('HTTP/2 GET through to an HTTP/1.1 upstream; connection-specific headers are not sent', async () => {
  const session = await connect(url);
  try {
    assert.equal(session.alpnProtocol, 'h2');
    const r = await h2request(session, { ':path': '/api/x?y=1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello /api/x?y=1');
    assert.equal(r.headers['x-path'], '/api/x?y=1');
    assert.equal(r.headers['x-http-version'], '1.1', 'the upstream leg is HTTP/1.1');
    assert.equal(r.headers['x-proto'], 'https');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    for (const h of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-hop'])
      assert.equal(r.headers[h], undefined, h);
  } finally {
    session.close();
  }
});

test('HTTP/2 POST with a streamed body of several MiB both ways', async () => {
  const session = await connect(url);
  try {
    const chunks = Array.from({ length: 80 }, () => randomBytes(64 * 1024)); // 5 MiB, no content-length
    const r = await h2request(session, { ':method': 'POST', ':path': '/api/echo' }, chunks);
    assert.equal(r.status, 200);
    // Buffered before the dispatch (5 MiB: a temporary file), then sent with Content-Length.
    assert.equal(r.headers['x-request-te'], 'undefined', 'sent upstream with Content-Length');
    assert.equal(r.body.length, 80 * 64 * 1024);
    assert.equal(sha(r.body), sha(chunks), 'the body came back intact');
    const big = await h2request(session, { ':path': '/api/big' });
    assert.equal(big.status, 200);
    assert.equal(big.body.length, BIG.length);
    assert.equal(sha(big.body), sha(BIG));
  } finally {
    session.close();
  }
});

test('concurrent streams on one HTTP/2 session', async () => {
  const session = await connect(url);
  try {
    const before = upstreamRequests;
    const n = 60;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => h2request(session, { ':path': `/api/c${i}` })),
    );
    replies.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `hello /api/c${i}`);
    });
    assert.equal(upstreamRequests, before + n);
    // A large download and small requests interleave on the same session.
    const [big, small] = await Promise.all([
      h2request(session, { ':path': '/api/big' }),
      h2request(session, { ':path': '/api/small' }),
    ]);
    assert.equal(big.body.length, BIG.length);
    assert.equal(small.body.toString(), 'hello /api/small');
  } finally {
    session.close();
  }
});

test('HTTP/2 errors are JSON: 404 no route, 502 upstream down', async () => {
  const session = await connect(url);
  try {
    const nf = await h2request(session, { ':path': '/nothing' });
    assert.equal(nf.status, 404);
    assert.match(String(nf.headers['content-type']), /application\/json/);
    assert.equal((JSON.parse(nf.body.toString()) as { error: string }).error, 'not_found');
    const bad = await h2request(session, { ':path': '/down' });
    assert.equal(bad.status, 502);
    const body = JSON.parse(bad.body.toString()) as { error: string; detail?: string; status: number };
    assert.equal(body.error, 'upstream_connect_failed');
    assert.equal(body.detail, 'ECONNREFUSED');
    // The session survives errors.
    assert.equal((await h2request(session, { ':path': '/api/after' })).status, 200);
  } finally {
    session.close();
  }
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('curl --http2 -k through the engine (GET and a streamed upload)', async (t) => {
  const version = await curl(['--version']);
  if (version.code !== 0 || !/\bHTTP2\b/.test(version.stdout)) return t.skip('curl without HTTP/2');
  const get = await curl([
    '-sk',
    '--http2',
    '-o',
    '-',
    '-w',
    '\n%{http_version} %{http_code}',
    `${url}/api/curl`,
  ]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, 'hello /api/curl\n2 200');
  const payload = randomBytes(3 * 1024 * 1024);
  const file = `${pki.dir}/upload.bin`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, payload);
  const up = await curl([
    '-sk',
    '--http2',
    '-H',
    'transfer-encoding: chunked',
    '--data-binary',
    `@${file}`,
    '-o',
    `${pki.dir}/download.bin`,
    '-w',
    '%{http_version} %{http_code} %{size_download}',
    `${url}/api/echo`,
  ]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, `2 200 ${payload.length}`);
  const { readFileSync } = await import('node:fs');
  assert.equal(sha(readFileSync(`${pki.dir}/download.bin`)), sha(payload));
});

test('HTTP/1.1 and h2 on the same TLS port via ALPN', async () => {
  const alpn = (protocols: string[]) =>
    new Promise<string | false>((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: engine.port, ALPNProtocols: protocols, ca: pki.ca.certPem },
        () => {
          const p = s.alpnProtocol ?? false;
          s.destroy();
          resolve(p);
        },
      );
      s.once('error', reject);
    });
  assert.equal(await alpn(['h2', 'http/1.1']), 'h2');
  assert.equal(await alpn(['http/1.1']), 'http/1.1');
  const h1 = await new Promise<{ status: number; version: string; body: string }>((resolve, reject) => {
    https
      .get(`${url}/api/h1`, { ca: pki.ca.certPem, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, version: res.httpVersion, body }));
      })
      .on('error', reject);
  });
  assert.deepEqual(h1, { status: 200, version: '1.1', body: 'hello /api/h1' });
  const session = await connect(url);
  try {
    assert.equal((await h2request(session, { ':path': '/api/h2' })).body.toString(), 'hello /api/h2');
  } finally {
    session.close();
  }
});

test('http2: false listener offers only http/1.1', async () => {
  const e = await startEngine({
    log: { level: 'error' },
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0, tls: true, http2: false }],
        tls: { certificate: { cert: pki.server.chainPem, key: pki.server.keyPem } },
        routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'ok' } }],
      },
    ],
  });
  try {
    const p = await new Promise<string | false>((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: e.port, ALPNProtocols: ['h2', 'http/1.1'], ca: pki.ca.certPem },
        () => {
          const v = s.alpnProtocol ?? false;
          s.destroy();
          resolve(v);
        },
      );
      s.once('error', reject);
    });
    assert.equal(p, 'http/1.1');
  } finally {
    await e.close();
  }
});

test('cleartext h2c listener with a prior-knowledge client', async () => {
  const e = await startEngine({
    log: { level: 'error' },
    headers: { xForwardedProto: 'set' },
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0, h2c: true }],
        routes: [{ ...proxyRoute(upstream.url), match: { prefix: '/api/' } }],
      },
    ],
  });
  const session = http2.connect(`http://127.0.0.1:${e.port}`);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    const r = await h2request(session, { ':path': '/api/clear' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello /api/clear');
    assert.equal(r.headers['x-proto'], 'http');
    const chunks = Array.from({ length: 32 }, () => randomBytes(64 * 1024));
    const echo = await h2request(session, { ':method': 'POST', ':path': '/api/echo' }, chunks);
    assert.equal(sha(echo.body), sha(chunks));
    const nf = await h2request(session, { ':path': '/x' });
    assert.equal(nf.status, 404);
  } finally {
    session.close();
    await e.close();
  }
});

test('h2c listener: the port is really HTTP/2 (an HTTP/1.1 request is not served as HTTP/1.1)', async () => {
  const e = await startEngine({
    log: { level: 'error' },
    servers: [
      {
        listen: [{ address: '127.0.0.1', port: 0, h2c: true }],
        routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'ok' } }],
      },
    ],
  });
  try {
    const reply = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect(e.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const t = setTimeout(() => s.destroy(), 2000);
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('close', () => (clearTimeout(t), resolve(Buffer.concat(chunks).toString('latin1'))));
      s.on('error', () => undefined);
    });
    assert.doesNotMatch(reply, /^HTTP\/1\.1 200/);
  } finally {
    await e.close();
  }
});
