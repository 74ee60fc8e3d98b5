// The demo (`pnpm start`, `gatehouse demo`) run as a user runs it: the CLI in a child process.
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { teeChildOutput } from '../../../test/helpers/log-tee.js';
import { CLI } from '../../../test/helpers/cli.js';
import { DEMO_INDEX } from '../src/demo/demo-config.js';

test('the demo answers on / with the paths it serves, and serves them', async (t) => {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI, 'demo', '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner in 20 s: ${out}`)), 20_000);
    proc.stdout.on('data', (c: Buffer) => {
      teeChildOutput(c);
      out += c.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`demo exited (${code}): ${out}`)));
  });
  assert.ok(port > 0);
  const base = `http://127.0.0.1:${port}`;

  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await index.text();
  assert.equal(text, DEMO_INDEX);
  // Every path the index names is served as it says.
  for (const path of ['/hello', '/api/anything', '/teapot', '/nowhere']) assert.ok(text.includes(path), path);
  assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello world\n');
  const echo = (await (await fetch(`${base}/api/anything?x=1`)).json()) as { url: string };
  assert.equal(echo.url, '/echo/anything?x=1');
  assert.equal((await fetch(`${base}/teapot`)).status, 418);
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /json/);
  await missing.text();

  proc.kill('SIGTERM');
  const code = await new Promise<number | null>((r) =>
    proc.exitCode !== null ? r(proc.exitCode) : proc.on('exit', r),
  );
  assert.equal(code, 0);
});
