// The gateway scenarios' files: what `edgemicro check` (the gateway's own validator, run from source)
// says of them, and that the load's API key is the standalone app's.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_BENCH_KEY, gatewayConfig, gatewayStandalone } from '../src/peers/gateway.js';
import { SCENARIOS } from '../src/scenarios/index.js';

const cli = fileURLToPath(new URL('../../packages/gateway/src/cli/main.ts', import.meta.url));

function check(plugins: 'bare' | 'oauth-quota'): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  try {
    writeFileSync(join(dir, 'bench-bench-config.yaml'), JSON.stringify(gatewayConfig(18999, dir, plugins)));
    writeFileSync(join(dir, 'standalone.yaml'), JSON.stringify(gatewayStandalone(18998)));
    const r = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        cli,
        'check',
        '-o',
        'bench',
        '-e',
        'bench',
        '-c',
        dir,
      ].concat(['--standalone', join(dir, 'standalone.yaml')]),
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('gateway-bare: a valid edgemicro config, one proxy at / to the origin, no plugins', () => {
  const out = check('bare');
  assert.match(out, /edgemicro_bench .* \/ -> http:\/\/127\.0\.0\.1:18998\//);
  assert.doesNotMatch(out, /plugins: \w/);
});

test('gateway-oauth-quota: oauth then quota, and the load sends the standalone app key', () => {
  assert.match(check('oauth-quota'), /plugins: oauth, quota/);
  const apps = gatewayStandalone(1).apps as Array<{ credentials: Array<{ key: string }> }>;
  assert.equal(apps[0]!.credentials[0]!.key, GATEWAY_BENCH_KEY);
  const load = SCENARIOS.find((s) => s.name === 'gateway-oauth-quota')!.load;
  assert.ok(load.kind === 'wrk' && load.headers?.includes(`x-api-key: ${GATEWAY_BENCH_KEY}`));
});
