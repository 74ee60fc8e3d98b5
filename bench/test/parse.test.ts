import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk } from '../src/load/wrk.js';
import { parseH2load } from '../src/load/h2load.js';
import { durationToMs, sizeToBytes } from '../src/load/units.js';
import { median, medianOf } from '../src/measure/median.js';

const WRK = `Running 3s test @ http://127.0.0.1:40000/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.61ms    5.12ms  53.06ms   93.54%
    Req/Sec     6.84k   512.33     7.40k    80.00%
  Latency Distribution
     50%    6.32ms
     75%    7.01ms
     90%    8.00ms
     99%   53.06ms
  20400 requests in 3.00s, 3.29MB read
  Socket errors: connect 0, read 12, write 1, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   6800.00
Transfer/sec:      1.10MB
`;

test('wrk output: requests, window, percentiles, bytes and errors', () => {
  const r = parseWrk(WRK);
  assert.equal(r.requests, 20400);
  assert.equal(r.seconds, 3);
  assert.equal(r.p50Ms, 6.32);
  assert.equal(r.p99Ms, 53.06);
  assert.ok(Math.abs(r.bytesPerSecond - (3.29 * 1024 * 1024) / 3) < 1);
  // read errors are the server's orderly closes under `Connection: close`: not counted.
  assert.equal(r.errors, 1 + 2 + 4);
});

test('wrk output without the latency block or errors', () => {
  const r = parseWrk('  12 requests in 1.00m, 768.00MB read\nRequests/sec: 0.20\n');
  assert.equal(r.seconds, 60);
  assert.equal(r.p99Ms, undefined);
  assert.equal(r.errors, 0);
  assert.throws(
    () => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'),
    /unexpected wrk output/,
  );
});

const H2LOAD = `starting benchmark...
finished in 3.00s, 17218.33 req/s, 1.58MB/s
requests: 51655 total, 51755 started, 51655 done, 51650 succeeded, 5 failed, 0 errored, 0 timeout
status codes: 51650 2xx, 0 3xx, 3 4xx, 0 5xx
traffic: 4.75MB (4980544) total, 657.55KB (673331) headers (space savings 94.70%), 605.31KB (619860) data
`;

test('h2load output: succeeded requests, rate, failures and 4xx/5xx', () => {
  const r = parseH2load(H2LOAD);
  assert.equal(r.requests, 51650);
  assert.equal(r.seconds, 3);
  assert.equal(r.errors, 5 + 3);
  assert.ok(Math.abs(r.bytesPerSecond - 1.58 * 1024 * 1024) < 1);
  assert.equal(r.p99Ms, undefined);
});

test('units', () => {
  assert.equal(durationToMs('250.00us'), 0.25);
  assert.equal(durationToMs('1.5s'), 1500);
  assert.ok(Number.isNaN(durationToMs('soon')));
  assert.equal(sizeToBytes('2KB'), 2048);
  assert.equal(sizeToBytes('1.00GB'), 1024 ** 3);
});

test('median per field, ignoring absent and non-finite values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const m = medianOf([
    { a: 1, b: 10 },
    { a: 5, b: NaN },
    { a: 3, b: 30 },
  ]);
  assert.deepEqual(m, { a: 3, b: 20 });
});
