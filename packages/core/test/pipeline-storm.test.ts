// A plugin error storm under load: while 200 keep-alive clients send ordinary requests, others make a
// plugin throw, call next(err), fail asynchronously and fail mid-response. Ordinary requests all succeed,
// failing ones get the edgemicro error answer, and the process neither crashes nor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createPluginPipeline, loadPlugins } from '../src/pipeline/index.js';
import { PLUGIN_DIR, silent, startGateway, startUpstream } from './fixtures/plugins/harness.js';

const FAILURES = ['throw', 'next-error', 'async', 'response', 'data'];

test(
  'plugin error storm during 200 concurrent keep-alive clients: zero failed ordinary requests',
  { timeout: 60_000 },
  async (t) => {
    const up = await startUpstream();
    const plugins = await loadPlugins({
      sequence: ['thrower', 'add-headers'],
      dir: PLUGIN_DIR,
      logger: silent,
    });
    const pipeline = createPluginPipeline({ plugins, logger: silent });
    const gw = await startGateway(up.port, [{ prefix: '/', plugins: ['thrower', 'add-headers'] }], pipeline);
    t.after(async () => {
      await gw.close();
      await up.close();
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    t.after(() => agent.destroy());
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: gw.port, path: '/x', agent, headers }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
          res.on('error', () => resolve({ status: -1, body: '' }));
        });
        req.on('error', () => resolve({ status: -1, body: '' }));
        req.setTimeout(10_000, () => req.destroy());
      });
    let ok = 0;
    let okFailed = 0;
    let storm = 0;
    let stormAnswered = 0;
    const stop = Date.now() + 3000;
    const client = async (i: number) => {
      let n = 0;
      while (Date.now() < stop) {
        n++;
        // One client in four sends a failing request every other time.
        if (i % 4 === 0 && n % 2 === 0) {
          const kind = FAILURES[(i + n) % FAILURES.length]!;
          const r = await get({ 'x-fail': kind });
          storm++;
          // Failures before the head give the edgemicro 500 JSON; a data-hook failure after the head cuts the connection.
          if (
            (r.status === 500 && /boom/.test(r.body)) ||
            (kind === 'data' && (r.status === -1 || r.status === 200))
          )
            stormAnswered++;
        } else {
          const r = await get({});
          if (r.status === 200) ok++;
          else okFailed++;
        }
      }
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => client(i)));
    assert.equal(okFailed, 0, 'ordinary requests failed during the storm');
    assert.ok(ok > 200, `only ${ok} ordinary requests`);
    assert.ok(storm > 20, `only ${storm} failing requests`);
    assert.equal(
      stormAnswered,
      storm,
      'every failing request got the error answer (or a cut connection after its head)',
    );
    // The engine still answers and holds no upstream request open.
    assert.equal((await get({})).status, 200);
    assert.equal(gw.gh.upstreamStats().running, 0);
  },
);
