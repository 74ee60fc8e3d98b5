// $request_time (nginx: seconds with millisecond resolution) and $request_time_ms (whole milliseconds,
// edgemicro's x-response-time) in response headers: the time from the request's arrival to the
// upstream's response head, so an upstream that waits shows in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../../test/helpers/client.js';
import { startEngine, startUpstream } from '../../../test/helpers/engine.js';

test('$request_time and $request_time_ms measure up to the upstream response head', async () => {
  const upstream = await startUpstream((_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('late'), 120);
  });
  const engine = await startEngine({
    servers: [
      {
        addResponseHeaders: [
          { name: 'x-ms', value: '$request_time_ms' },
          { name: 'x-s', value: '$request_time' },
        ],
        routes: [{ match: { prefix: '/' }, action: { type: 'proxy', upstream: upstream.url } }],
      },
    ],
  });
  try {
    const r = await request(engine.port, '/');
    assert.equal(r.status, 200);
    const ms = String(r.headers['x-ms']);
    const s = String(r.headers['x-s']);
    assert.match(ms, /^\d+$/);
    assert.match(s, /^\d+\.\d{3}$/);
    assert.ok(Number(ms) >= 115 && Number(ms) < 5000, `x-ms ${ms}`);
    assert.ok(Math.abs(Number(s) * 1000 - Number(ms)) < 50, `x-s ${s} against x-ms ${ms}`);
  } finally {
    await engine.close();
    await upstream.close();
  }
});
