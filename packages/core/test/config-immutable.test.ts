// The running config is a frozen copy of what was validated: a library user who changes their config
// object after createGatehouse() or reload() changes nothing that runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig, type GatehouseConfig } from '../src/index.js';
import { request } from '../../../test/helpers/client.js';
import { startEngine, startUpstream } from '../../../test/helpers/engine.js';

test('validateConfig returns a deep frozen copy, and refuses what is not plain data', () => {
  const mine = {
    servers: [
      {
        listen: [{ port: 0 }],
        routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 204 } }],
      },
    ],
  };
  const valid = validateConfig(mine);
  assert.notEqual(valid, mine);
  assert.ok(Object.isFrozen(valid) && Object.isFrozen(valid.servers[0]!.routes[0]!.action));
  assert.deepEqual(valid, mine);
  assert.throws(() => validateConfig({ servers: [], hook: () => 1 }), ConfigError);
});

test('changing the config object after start or reload changes nothing that runs', async (t) => {
  const a = await startUpstream((q, res) => void setTimeout(() => res.end('A'), q.url === '/slow' ? 300 : 0));
  const b = await startUpstream((_q, res) => res.end('B'));
  const mine = {
    servers: [
      {
        routes: [
          {
            match: { prefix: '/' },
            action: {
              type: 'proxy',
              upstream: a.url,
              setHeaders: [{ name: 'x-tag', value: 'one' }],
              options: { readTimeoutMs: 5000 },
            },
          },
        ],
      },
    ],
  } as GatehouseConfig;
  const gh = await startEngine(mine);
  t.after(async () => {
    await gh.close();
    await a.close();
    await b.close();
  });
  const action = (c: GatehouseConfig) =>
    c.servers[0]!.routes[0]!.action as {
      upstream: string;
      setHeaders: Array<{ value: string }>;
      options: { readTimeoutMs: number };
    };
  const served = async () => {
    const r = await request(`${gh.url}/x`);
    return `${r.text}:${String((r.text === 'A' ? a : b).seen.at(-1)!.headers['x-tag'])}`;
  };
  assert.equal(await served(), 'A:one');
  // The helper's copy is what the engine validated; change the engine's own view too: it must refuse.
  assert.throws(() => {
    action(gh.gh.snapshot.config).setHeaders[0]!.value = 'two';
  }, TypeError);

  const next = {
    servers: [{ listen: [{ address: '127.0.0.1', port: gh.port }], routes: mine.servers[0]!.routes }],
  } as GatehouseConfig;
  await gh.gh.reload(next);
  // The caller mutates what they passed to reload.
  action(next).setHeaders[0]!.value = 'two';
  action(next).upstream = b.url;
  // Read per request from the route's options: the snapshot must not share the caller's object.
  action(next).options.readTimeoutMs = 50;
  next.servers[0]!.routes.push({ match: { exact: '/other' }, action: { type: 'return', status: 418 } });
  assert.equal(await served(), 'A:one');
  assert.equal((await request(`${gh.url}/other`)).status, 200, 'no route was added');
  assert.equal((await request(`${gh.url}/slow`)).status, 200, 'the read timeout is still 5000 ms');
});
