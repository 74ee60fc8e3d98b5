// The suite-wide secret sweep finds what it claims to (planted lines) and passes clean ones; the
// sweep over the real logs runs after every full `pnpm test` (scripts/test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepLogs } from '../helpers/log-sweep.js';

test('the log sweep finds canaries and secret shapes, names file, line and rule, and passes redacted lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
  try {
    const planted = [
      '{"level":30,"msg":"x","headers":{"authorization":"[redacted]","x-api-key":"[redacted]"}}',
      '{"level":30,"msg":"request","url":"/a?api_key=***&b=1"}',
      '{"level":10,"msg":"leak","headers":{"x-api-key":"abc123"}}',
      '{"level":10,"msg":"leak","url":"/a?access_token=abc.def"}',
      '{"level":50,"msg":"-----BEGIN PRIVATE KEY-----"}',
      '{"level":30,"msg":"upstream http://user:pw@host/ failed"}',
      '{"level":30,"msg":"Authorization: Bearer abcdefgh123"}',
      '{"level":30,"msg":"canary hdrkey-7f3a9c1e5b"}',
    ];
    writeFileSync(join(dir, '1.log'), planted.join('\n') + '\n');
    writeFileSync(join(dir, 'ignored.txt'), 'hdrkey-7f3a9c1e5b\n');
    const { findings, lines, files } = sweepLogs(dir);
    assert.equal(files, 1);
    assert.equal(lines, planted.length);
    assert.deepEqual(
      findings.map((f) => `${f.line} ${f.rule}`),
      [
        '3 credential field',
        '4 credential in a query',
        '5 private key',
        '6 credentials in a URL',
        '7 bearer token',
        '8 canary headerApiKey',
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
