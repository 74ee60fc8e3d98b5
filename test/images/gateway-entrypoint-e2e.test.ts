// The gateway image's entrypoint run on this host exactly as the image runs it (container root
// moved to a temporary directory), starting the real `edgemicro` CLI against the Edge emulator:
// the Docker seed's examples (authentication in the first; the others leave oauth out of the
// sequence to check their own concern: drain, plugin directory, TLS). Skips, saying why, while the CLI or the emulator is not in the tree.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { GATEWAY_ENTRYPOINT, REPO, tempRoot } from './run-entrypoint.js';

const APP = join(REPO, 'packages/gateway');
const EMULATOR = join(REPO, 'test/emulators/edge/edge-emulator.ts');
const KEY = 'd9c34e1aff68ed969273b016699eabf48780e4f652242e72fc88a23e21252cb0';
const SECRET = '3bc95a71c86a3c8ce04137fbcb788158731t51dfc6cdec13b7c05aa0bd969430';
const API_KEY = 'PydUKRDGIXRqF2xh4usn1FLHbhGKVIz';

// The part of test/emulators/edge used here (imported by path: it arrives with the gateway runtime).
interface EdgeEmulator {
  readonly urls: {
    bootstrap: string;
    products: string;
    jwt_public_key: string;
    jwk_public_keys: string;
    verify_api_key: string;
  };
  close(): Promise<void>;
}
interface EdgeEmulatorModule {
  startEdgeEmulator(options: {
    org: string;
    env: string;
    key: string;
    secret: string;
    proxies: unknown[];
    products: unknown[];
    apiKeys: Record<
      string,
      { application_name: string; developer_email: string; api_product_list: string[] }
    >;
  }): Promise<EdgeEmulator>;
  bootstrapProxy(name: string, basePath: string, url: string): unknown;
}

function skipReason(): string | false {
  let bin: string | undefined;
  try {
    bin = (JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as { bin?: Record<string, string> })
      .bin?.edgemicro;
  } catch {
    bin = undefined;
  }
  if (bin === undefined) return 'packages/gateway has no edgemicro CLI yet (the gateway runtime issue)';
  if (!existsSync(join(APP, 'dist/cli/main.js'))) return 'packages/gateway is not built (pnpm build)';
  if (!existsSync(EMULATOR)) return 'test/emulators/edge (the Edge emulator) is not in this tree';
  return false;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function request(
  url: string,
  headers: Record<string, string> = {},
  ca?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { headers, agent: false, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`entrypoint exited ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port} after 20 s:\n${output()}`);
}

/** An upstream answering "Hello, world!" (after 1.5 s on /hello/slow), over HTTP or HTTPS. */
async function startUpstream(tls?: { key: string; cert: string }) {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    setTimeout(() => res.end('Hello, world!'), req.url?.endsWith('/slow') ? 1500 : 0);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://localhost:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function configYaml(edge: EdgeEmulator, sequence: string[], ssl?: { key: string; cert: string }): string {
  return [
    'edge_config:',
    `  bootstrap: ${edge.urls.bootstrap}`,
    `  jwt_public_key: ${edge.urls.jwt_public_key}`,
    `  products: ${edge.urls.products}`,
    `  jwk_public_keys: ${edge.urls.jwk_public_keys}`,
    'edgemicro:',
    '  port: 8000',
    '  address: 127.0.0.1',
    '  max_connections: 100',
    '  config_change_poll_interval: 600',
    '  logging: { level: info, to_console: true }',
    `  plugins: { sequence: [${sequence.join(', ')}] }`,
    ...(ssl ? ['  ssl:', `    key: ${ssl.key}`, `    cert: ${ssl.cert}`] : []),
    'oauth:',
    '  allowNoAuthorization: false',
    '  allowInvalidAuthorization: false',
    `  verify_api_key_url: ${edge.urls.verify_api_key}`,
    '',
  ].join('\n');
}

async function withGateway(
  options: {
    sequence: string[];
    upstream: { url: string };
    env?: Record<string, string>;
    root?: string;
    ssl?: { key: string; cert: string };
  },
  body: (gw: { port: number; child: ChildProcess; output: () => string; root: string }) => Promise<void>,
): Promise<void> {
  const emulator = (await import(pathToFileURL(EMULATOR).href)) as EdgeEmulatorModule;
  const edge = await emulator.startEdgeEmulator({
    org: 'docs',
    env: 'test',
    key: KEY,
    secret: SECRET,
    proxies: [emulator.bootstrapProxy('edgemicro_hello', '/hello', options.upstream.url)],
    products: [
      {
        name: 'hello-product',
        apiResources: ['/', '/**'],
        proxies: ['edgemicro_hello'],
        environments: ['test'],
      },
    ],
    apiKeys: {
      [API_KEY]: {
        application_name: 'app',
        developer_email: 'dev@example.com',
        api_product_list: ['hello-product'],
      },
    },
  });
  const root = options.root ?? tempRoot('gw-e2e');
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [GATEWAY_ENTRYPOINT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      GATEHOUSE_CONTAINER_ROOT: root,
      GATEHOUSE_APP_DIR: APP,
      // The seed's first example, with the port moved off 8000 for this shared host.
      EDGEMICRO_PROCESSES: '1',
      EDGEMICRO_PORT: String(port),
      EDGEMICRO_ORG: 'docs',
      EDGEMICRO_ENV: 'test',
      EDGEMICRO_KEY: KEY,
      EDGEMICRO_SECRET: SECRET,
      EDGEMICRO_CONFIG: Buffer.from(configYaml(edge, options.sequence, options.ssl)).toString('base64'),
      SERVICE_NAME: 'edgemicro',
      ...options.env,
    },
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  try {
    await waitForPort(port, child, () => output);
    await body({ port, child, output: () => output, root });
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await once(child, 'exit');
      clearTimeout(timer);
    }
    await edge.close();
  }
}

describe(
  'gateway entrypoint on the host, the seed examples against the Edge emulator',
  { skip: skipReason() },
  () => {
    it('no key → 401 missing_authorization; key and secret never on a command line; console output in the log', async () => {
      const upstream = await startUpstream();
      try {
        await withGateway({ sequence: ['oauth'], upstream }, async ({ port, child, output, root }) => {
          const anonymous = await request(`http://127.0.0.1:${port}/hello`);
          assert.equal(anonymous.status, 401);
          assert.deepEqual(JSON.parse(anonymous.body), {
            error: 'missing_authorization',
            error_description: 'Missing Authorization header',
          });
          const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
          assert.ok(ps.includes('edgemicro'), 'the CLI shows in ps');
          assert.ok(!ps.includes(KEY) && !ps.includes(SECRET), 'key or secret on a command line');
          assert.ok(!output().includes(KEY) && !output().includes(SECRET), 'key or secret in the output');
          assert.ok(
            readFileSync(join(root, 'logs/edgemicro.log'), 'utf8').length > 0,
            'console output in logs/edgemicro.log',
          );
          assert.equal(child.exitCode, null);
        });
      } finally {
        await upstream.close();
      }
    });

    it('a valid x-api-key → 200', async () => {
      const upstream = await startUpstream();
      try {
        await withGateway({ sequence: ['oauth'], upstream }, async ({ port }) => {
          assert.deepEqual(await request(`http://127.0.0.1:${port}/hello`, { 'x-api-key': API_KEY }), {
            status: 200,
            body: 'Hello, world!',
          });
        });
      } finally {
        await upstream.close();
      }
    });

    it('SIGTERM drains the request in flight, then exit 143', async () => {
      const upstream = await startUpstream();
      try {
        await withGateway({ sequence: [], upstream }, async ({ port, child }) => {
          const slow = request(`http://127.0.0.1:${port}/hello/slow`);
          await new Promise((r) => setTimeout(r, 300));
          child.kill('SIGTERM');
          assert.deepEqual(await slow, { status: 200, body: 'Hello, world!' });
          const [code] = (await once(child, 'exit')) as [number | null];
          assert.equal(code, 143);
        });
      } finally {
        await upstream.close();
      }
    });

    it('option A: the seed plugin response-uppercase in the mounted plugins directory → HELLO, WORLD!', async () => {
      const upstream = await startUpstream();
      const root = tempRoot('gw-e2e');
      const plugin = join(root, 'plugins/response-uppercase');
      mkdirSync(plugin, { recursive: true });
      writeFileSync(
        join(plugin, 'index.js'),
        "'use strict';\nmodule.exports.init = function () {\n  return {\n    ondata_response: function (req, res, data, next) {\n      next(null, data ? Buffer.from(data.toString().toUpperCase()) : data);\n    },\n    onend_response: function (req, res, data, next) {\n      next(null, data ? Buffer.from(data.toString().toUpperCase()) : null);\n    },\n  };\n};\n",
      );
      writeFileSync(
        join(plugin, 'package.json'),
        '{"name":"response-uppercase","version":"1.0.0","main":"index.js"}\n',
      );
      try {
        await withGateway({ sequence: ['response-uppercase'], upstream, root }, async ({ port }) => {
          assert.deepEqual(await request(`http://127.0.0.1:${port}/hello`), {
            status: 200,
            body: 'HELLO, WORLD!',
          });
        });
      } finally {
        await upstream.close();
      }
    });

    it('TLS both ways: a target signed by a private CA is trusted through NODE_EXTRA_CA_CERTS', async (t) => {
      if (spawnSync('openssl', ['version']).error) {
        t.skip('openssl is not installed');
        return;
      }
      const root = tempRoot('gw-e2e');
      const dir = join(root, '.edgemicro');
      mkdirSync(dir, { recursive: true });
      const openssl = (...args: string[]) => {
        const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
      };
      // The seed's keygen.sh, without prompts: a root CA, and tls.key/tls.crt for localhost.
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'rootca.key',
        '-out',
        'rootca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=test root CA',
      );
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'tls.key',
        '-out',
        'tls.csr',
        '-subj',
        '/CN=localhost',
      );
      writeFileSync(
        join(dir, 'v3.cnf'),
        'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
      );
      openssl(
        'x509',
        '-req',
        '-in',
        'tls.csr',
        '-CA',
        'rootca.pem',
        '-CAkey',
        'rootca.key',
        '-CAcreateserial',
        '-out',
        'tls.crt',
        '-days',
        '2',
        '-extfile',
        'v3.cnf',
      );
      const tls = {
        key: readFileSync(join(dir, 'tls.key'), 'utf8'),
        cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
      };
      const ca = readFileSync(join(dir, 'rootca.pem'), 'utf8');
      const upstream = await startUpstream(tls);
      const ssl = { key: join(dir, 'tls.key'), cert: join(dir, 'tls.crt') };
      try {
        await withGateway(
          { sequence: [], upstream, root, ssl, env: { NODE_EXTRA_CA_CERTS: join(dir, 'rootca.pem') } },
          async ({ port }) => {
            assert.deepEqual(await request(`https://localhost:${port}/hello`, {}, ca), {
              status: 200,
              body: 'Hello, world!',
            });
          },
        );
        // Without the CA the target's certificate is refused: 502, as in the seed.
        await withGateway({ sequence: [], upstream, root: tempRootWith(root), ssl }, async ({ port }) => {
          const refused = await request(`https://localhost:${port}/hello`, {}, ca);
          assert.equal(refused.status, 502);
        });
      } finally {
        await upstream.close();
      }
    });
  },
);

/** A fresh root that shares the certificates of `root` (the same .edgemicro mount). */
function tempRootWith(root: string): string {
  const fresh = tempRoot('gw-e2e');
  mkdirSync(join(fresh, '.edgemicro'), { recursive: true });
  for (const f of ['tls.key', 'tls.crt', 'rootca.pem'])
    writeFileSync(join(fresh, '.edgemicro', f), readFileSync(join(root, '.edgemicro', f)));
  return fresh;
}
