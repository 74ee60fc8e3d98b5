// Start-up memory: what a started engine with one plain route has loaded. node-forge (1.2 MiB),
// prom-client's index with @opentelemetry/api (1.3 MiB) and undici are loaded only when used
// (`gatehouse cert`, an egress proxy); bench/ANALYSIS.md, "Memory".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ENGINE = join(import.meta.dirname, '../src/gatehouse.ts');

async function loadedAfterStart(config: object): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const { createGatehouse } = await import(${JSON.stringify(ENGINE)});
    const gh = createGatehouse({ config: ${JSON.stringify(config)} });
    await gh.start();
    gh.logger.warn({ port: gh.addresses()[0].port, password: 'p' }, 'started');
    await gh.registry.metrics();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    await gh.close(100);
    console.error(JSON.stringify(loaded));`;
  const { stderr } = await run(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { timeout: 20_000 },
  );
  return JSON.parse(stderr.trim().split('\n').pop()!) as string[];
}

const ONE_ROUTE = {
  servers: [
    { listen: [{ port: 0 }], routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 204 } }] },
  ],
  log: { level: 'warn' },
  admin: { port: 0 },
};

test('a started engine loads neither node-forge, prom-client’s index, @opentelemetry nor undici', async () => {
  const loaded = await loadedAfterStart(ONE_ROUTE);
  const unwanted = loaded.filter((p) =>
    /[/\\](node-forge|@opentelemetry|undici|tdigest|bintrees)[/\\]|prom-client[/\\]index\.js$/.test(p),
  );
  assert.deepEqual(unwanted, []);
  // What it does load: prom-client's own files, and sonic-boom for the log on stdout.
  assert.ok(loaded.some((p) => /prom-client[/\\]lib[/\\]registry\.js$/.test(p)));
  assert.ok(loaded.some((p) => /sonic-boom[/\\]index\.js$/.test(p)));
});
