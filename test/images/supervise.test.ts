// The entrypoints' PID-1 behaviour (docker/common/supervise.mjs) with a real proxy as the child:
// Gatehouse's own `gatehouse serve` CLI, which drains on SIGTERM like the product CLIs. SIGTERM
// waits out the stop delay while still serving, then drains in-flight requests, then the
// container exits 143; console output is appended to the log file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, tempRoot } from './run-entrypoint.js';

const CORE_CLI = join(REPO, 'packages/core/dist/cli/main.js');
const SUPERVISE = join(REPO, 'docker/common/supervise.mjs');

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function startSupervised(stopDelaySeconds: number) {
  const upstream = http.createServer((req, res) => {
    const wait = req.url === '/slow' ? 1500 : 0;
    setTimeout(() => res.end(`done ${req.url}`), wait);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = await freePort();
  const root = tempRoot('supervise');
  const config = join(root, 'gatehouse.json');
  writeFileSync(
    config,
    JSON.stringify({
      upstreams: { app: { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } },
      servers: [
        {
          listen: [{ address: '127.0.0.1', port }],
          routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: 'app' } }],
        },
      ],
    }),
  );
  const plan = {
    argv: [process.execPath, CORE_CLI, 'serve', '--config', config],
    env: { PATH: process.env.PATH },
    cwd: root,
    logFile: join(root, 'logs/edgemicro.log'),
    stopDelaySeconds,
    name: 'entrypoint',
  };
  const driver = `import { supervise } from ${JSON.stringify(SUPERVISE)}; process.exitCode = await supervise(${JSON.stringify(plan)});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', driver], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await waitForPort(port, Date.now() + 10_000);
  return {
    port,
    root,
    child,
    exited,
    stderr: () => stderr,
    close: () => new Promise((resolve) => upstream.close(resolve)),
  };
}

describe(
  'supervise: PID 1 of both images',
  { skip: !existsSync(CORE_CLI) && 'packages/core is not built (pnpm build)' },
  () => {
    it('SIGTERM drains: the request in flight completes, then exit 143', async () => {
      const run = await startSupervised(0);
      try {
        assert.equal((await get(run.port, '/fast')).body, 'done /fast');
        const slow = get(run.port, '/slow');
        await new Promise((r) => setTimeout(r, 200));
        run.child.kill('SIGTERM');
        assert.deepEqual(await slow, { status: 200, body: 'done /slow' });
        const [code, signal] = await run.exited;
        assert.equal(signal, null);
        assert.equal(code, 143);
        assert.match(run.stderr(), /entrypoint: SIGTERM: draining/);
        assert.match(run.stderr(), /entrypoint: stopped with status 0/);
        assert.ok(
          readFileSync(join(run.root, 'logs/edgemicro.log'), 'utf8').length > 0,
          'console output in the log file',
        );
      } finally {
        run.child.kill('SIGKILL');
        await run.close();
      }
    });

    it('EDGEMICRO_STOP_DELAY: new requests are still served during the delay, then the drain', async () => {
      const run = await startSupervised(1);
      try {
        run.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 300));
        // Still listening: a load balancer has time to take the endpoint out first.
        assert.equal((await get(run.port, '/during-delay')).status, 200);
        const [code] = await run.exited;
        assert.equal(code, 143);
        assert.match(run.stderr(), /SIGTERM: stopping in 1 s/);
        await assert.rejects(get(run.port, '/after'), /ECONNREFUSED/);
      } finally {
        run.child.kill('SIGKILL');
        await run.close();
      }
    });

    it('a second SIGTERM skips what is left of the delay', async () => {
      const run = await startSupervised(30);
      try {
        run.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        run.child.kill('SIGTERM');
        const [code] = await run.exited;
        assert.equal(code, 143);
        assert.ok(Date.now() - started < 20_000, 'did not wait out 30 s');
      } finally {
        run.child.kill('SIGKILL');
        await run.close();
      }
    });

    it('when the child exits on its own, the container exits with its status', async () => {
      const plan = {
        argv: [process.execPath, CORE_CLI, 'serve', '--config', join(tempRoot('supervise'), 'missing.json')],
        env: { PATH: process.env.PATH },
        cwd: REPO,
        stopDelaySeconds: 0,
        name: 'entrypoint',
      };
      const driver = `import { supervise } from ${JSON.stringify(SUPERVISE)}; process.exitCode = await supervise(${JSON.stringify(plan)});`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', driver], { stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.notEqual(code, 0);
      assert.notEqual(code, 143);
    });
  },
);
