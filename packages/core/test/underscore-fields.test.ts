// Request fields whose names contain `_` are dropped by default (nginx `underscores_in_headers off`):
// CGI-style backends map `X_Forwarded_For` and `X-Forwarded-For` to one variable, so a client could
// spoof what the proxy vouches for. A server can forward them; dropped fields are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawText } from '../../../test/helpers/raw-http.js';
import { startEngine, startUpstream } from '../../../test/helpers/engine.js';

test('underscore field names are dropped by default, forwarded when the server allows them, and counted', async (t) => {
  const up = await startUpstream();
  const gh = await startEngine({
    servers: [
      { name: 'strict', routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: up.url } }] },
      {
        name: 'loose',
        serverNames: ['loose'],
        listen: [{ address: '127.0.0.1', port: 0 }],
        underscoresInHeaders: true,
        routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: up.url } }],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await up.close();
  });
  const ask = (host: string) =>
    `GET /x HTTP/1.1\r\nHost: ${host}\r\nX_Forwarded_For: 6.6.6.6\r\nx_api_key: k\r\nX-Ok: 1\r\nConnection: close\r\n\r\n`;

  assert.match(await rawText(gh.port, ask('strict')), /^HTTP\/1\.1 200 /);
  const seen = up.seen.at(-1)!;
  assert.equal(seen.headers['x_forwarded_for'], undefined);
  assert.equal(seen.headers['x_api_key'], undefined);
  assert.equal(seen.headers['x-ok'], '1');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'only the engine’s own X-Forwarded-For');

  assert.match(await rawText(gh.port, ask('loose')), /^HTTP\/1\.1 200 /);
  assert.equal(up.seen.at(-1)!.headers['x_forwarded_for'], '6.6.6.6');

  const metrics = await gh.gh.registry.metrics();
  assert.match(metrics, /gatehouse_request_fields_dropped_total\{server="strict",reason="underscore"\} 2/);
  assert.doesNotMatch(metrics, /gatehouse_request_fields_dropped_total\{server="loose"/);
});
