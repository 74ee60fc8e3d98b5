// microgateway-core's proxy-tests / proxy-tests-tls through the compat API: target traffic through
// `edgemicro.proxy` (absolute-form requests for an http target, a CONNECT tunnel for an https target),
// the bypass list from `edgemicro.proxy.bypass` and from NO_PROXY, and `enabled: false`. The forward
// proxy and the targets are real servers on loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startConnectProxy, type ConnectProxy } from '../../../../test/helpers/connect-proxy.js';
import { createTestPki } from '../../../../test/helpers/pki.js';
import type { MicrogatewayConfig } from '../../src/compat/index.js';
import {
  baseConfig,
  freePort,
  microgateway,
  request,
  startGateway,
  startTarget,
  stopGateway,
  type Target,
} from './support.js';

const pki = createTestPki({ keyBits: 1024 });
after(() => pki.cleanup());

/** A forward proxy relaying absolute-form requests to their target, tagging responses it relayed. */
function startRelayProxy(): Promise<ConnectProxy> {
  return startConnectProxy((req, res) => {
    const out = http.request(req.url!, { method: req.method, headers: req.headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-relayed-by': 'test-proxy' });
      up.pipe(res);
    });
    out.on('error', () => res.writeHead(599).end());
    req.pipe(out);
  });
}

async function run(
  target: Target,
  extra: Partial<MicrogatewayConfig>,
  check: (base: string) => Promise<void>,
): Promise<void> {
  const port = await freePort();
  const gateway = microgateway(baseConfig(port, target.url, extra));
  await startGateway(gateway);
  try {
    await check(`http://127.0.0.1:${port}`);
  } finally {
    await stopGateway(gateway);
  }
}

function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
}

const NO_PROXY_ENV = { NO_PROXY: undefined, no_proxy: undefined };

test('http target through edgemicro.proxy without tunnelling: absolute-form request via the proxy', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(
        target,
        { edgemicro: { proxy: { enabled: true, url: proxy.url, tunnel: false } } },
        async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-relayed-by'], 'test-proxy');
          assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
          assert.deepEqual(proxy.absolute, [`${target.url}/echo/get`]);
          assert.deepEqual(proxy.connects, []);
        },
      ),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('https target through edgemicro.proxy: a CONNECT tunnel, TLS to the target inside it', async () => {
  const target = await startTarget({
    tls: { key: readFileSync(pki.server.keyFile), cert: readFileSync(pki.server.certFile) },
  });
  const proxy = await startRelayProxy();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(
        target,
        {
          edgemicro: { proxy: { enabled: true, url: proxy.url, tunnel: true } },
          targets: [{ ssl: { client: { ca: pki.caFile } } }],
        },
        async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
          assert.deepEqual(proxy.connects, [`127.0.0.1:${target.port}`]);
          assert.deepEqual(proxy.absolute, []);
        },
      ),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('edgemicro.proxy.bypass: a listed target host is reached directly', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(
        target,
        { edgemicro: { proxy: { enabled: true, url: proxy.url, bypass: 'other.example, 127.0.0.1' } } },
        async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-relayed-by'], undefined);
          assert.deepEqual(proxy.absolute, []);
          assert.equal(target.seen.length, 1);
        },
      ),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('NO_PROXY bypass with the proxy URL from the config, and HTTP_PROXY when the config has none', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv({ NO_PROXY: '127.0.0.1', no_proxy: undefined }, () =>
      run(target, { edgemicro: { proxy: { enabled: true, url: proxy.url } } }, async (base) => {
        const r = await request(`${base}/v1/echo/get`);
        assert.equal(r.status, 200);
        assert.deepEqual(proxy.absolute, []);
      }),
    );
    await withEnv(
      { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url, http_proxy: undefined, REQUEST_METHOD: undefined },
      () =>
        run(target, { edgemicro: { proxy: { enabled: true } } }, async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-relayed-by'], 'test-proxy');
          assert.equal(proxy.absolute.length, 1);
        }),
    );
    await withEnv(
      { NO_PROXY: '127.0.0.1', no_proxy: undefined, HTTP_PROXY: proxy.url, http_proxy: undefined },
      () =>
        run(target, { edgemicro: { proxy: { enabled: true } } }, async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.equal(proxy.absolute.length, 1, 'bypassed');
        }),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('edgemicro.proxy.enabled false: the target is reached directly', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(target, { edgemicro: { proxy: { enabled: false, url: proxy.url } } }, async (base) => {
        const r = await request(`${base}/v1/echo/get`);
        assert.equal(r.status, 200);
        assert.deepEqual(proxy.absolute, []);
        assert.deepEqual(proxy.connects, []);
      }),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('the proxy refusing connections: 502', async () => {
  const target = await startTarget();
  const dead = await freePort();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(
        target,
        { edgemicro: { proxy: { enabled: true, url: `http://127.0.0.1:${dead}` } } },
        async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 502);
          assert.equal(target.seen.length, 0);
        },
      ),
    );
  } finally {
    await target.close();
  }
});

test('edgemicro.proxy.tunnel true: an http target is reached through a CONNECT tunnel too', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv(NO_PROXY_ENV, () =>
      run(target, { edgemicro: { proxy: { enabled: true, url: proxy.url, tunnel: true } } }, async (base) => {
        const r = await request(`${base}/v1/echo/get`);
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), { get: { get: 'gettest' } });
        assert.deepEqual(proxy.connects, [`127.0.0.1:${target.port}`]);
        assert.deepEqual(proxy.absolute, []);
        // Inside the tunnel the target is spoken to directly: an origin-form request.
        assert.deepEqual(
          target.seen.map((s) => s.url),
          ['/echo/get'],
        );
      }),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});

test('edgemicro.proxy.tunnel true with the proxy from HTTP_PROXY (no url in the config): CONNECT too', async () => {
  const target = await startTarget();
  const proxy = await startRelayProxy();
  try {
    await withEnv(
      { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url, http_proxy: undefined, REQUEST_METHOD: undefined },
      () =>
        run(target, { edgemicro: { proxy: { enabled: true, tunnel: true } } }, async (base) => {
          const r = await request(`${base}/v1/echo/get`);
          assert.equal(r.status, 200);
          assert.deepEqual(proxy.connects, [`127.0.0.1:${target.port}`]);
          assert.deepEqual(proxy.absolute, []);
        }),
    );
  } finally {
    proxy.close();
    await target.close();
  }
});
