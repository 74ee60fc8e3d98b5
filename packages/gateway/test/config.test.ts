// The edgemicro config: env tags, validation messages naming key, file and line, the translation
// into core's native config, and edgemicro's error bodies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '@gatehouse/core';
import { replaceEnvTags } from '../src/config/env-tags.js';
import { EdgemicroConfigError } from '../src/config/errors.js';
import { translate } from '../src/config/translate.js';
import { filterProxies } from '../src/control-plane/map-edge.js';
import { validateEdgemicroConfig } from '../src/config/validate.js';
import { keyLine, parseYaml } from '../src/config/yaml-file.js';
import { renderEdgemicroError } from '../src/runtime/error-renderer.js';
import type { EdgeProxy } from '../src/control-plane/types.js';

const proxy = (name: string, base: string, url: string, extra: Partial<EdgeProxy> = {}): EdgeProxy => ({
  name,
  revision: '1',
  proxy_name: 'default',
  base_path: base,
  target_name: 'default',
  url,
  max_connections: 1000,
  ...extra,
});

function load(text: string) {
  const doc = parseYaml(text, '/cfg/o-e-config.yaml');
  return validateEdgemicroConfig(doc.value, doc);
}

test('env tags: string, number, boolean; unset left in place and reported; wrong kinds are errors', () => {
  const r = replaceEnvTags(
    { a: '<E>S</E>', b: '<E><n>N</n></E>', c: '<E><b>B</b></E>', d: 'x-<E>S</E>-y', e: '<E>UNSET</E>' },
    { S: 'str', N: '42', B: 'true' },
  );
  assert.deepEqual(r.value, { a: 'str', b: 42, c: true, d: 'x-str-y', e: '<E>UNSET</E>' });
  assert.deepEqual(r.missing, ['UNSET']);
  const bad = replaceEnvTags({ p: '<E><n>N</n></E>', q: '<E><b>B</b></E>' }, { N: '4x', B: 'yes' });
  assert.deepEqual(
    bad.invalid.map((i) => i.key),
    ['config.p', 'config.q'],
  );
});

test('a YAML syntax error names file and line', () => {
  assert.throws(
    () => parseYaml('edgemicro:\n  port: 8000\n   bad: [\n', '/cfg/x.yaml'),
    (err: unknown) => err instanceof EdgemicroConfigError && /^\/cfg\/x\.yaml:\d+: yaml: /.test(err.message),
  );
});

test('validation names key, file and line; unknown keys are reported by name', () => {
  const text = [
    'edgemicro:',
    '  port: 99999',
    '  logging:',
    '    level: loud',
    '    to_console: true',
    '  frobnicate: true',
    'headers:',
    '  x-forwarded-for: maybe',
    'mystery: {}',
  ].join('\n');
  assert.throws(
    () => load(text),
    (err: unknown) => {
      assert.ok(err instanceof EdgemicroConfigError);
      const lines = err.message.split('\n');
      assert.ok(
        lines.some((l) =>
          l.startsWith('/cfg/o-e-config.yaml:2: config.edgemicro.port: invalid value: 99999'),
        ),
      );
      assert.ok(
        lines.some((l) =>
          l.startsWith('/cfg/o-e-config.yaml:4: config.edgemicro.logging.level: invalid value: "loud"'),
        ),
      );
      assert.ok(
        lines.some((l) => l.startsWith('/cfg/o-e-config.yaml:6: config.edgemicro.frobnicate: unknown key')),
      );
      assert.ok(
        lines.some((l) =>
          l.startsWith('/cfg/o-e-config.yaml:8: config.headers.x-forwarded-for: invalid value'),
        ),
      );
      assert.ok(lines.some((l) => l.startsWith('/cfg/o-e-config.yaml:9: config.mystery: unknown section')));
      return true;
    },
  );
  assert.equal(keyLine('a:\n  b:\n    c: 1\nc: 2\n', ['c']), 4);
  assert.equal(keyLine('a:\n  b:\n    c: 1\nc: 2\n', ['a', 'b', 'c']), 3);
});

test('a missing port and a missing logging.dir are reported as edgemicro does', () => {
  assert.throws(
    () => load('edgemicro:\n  logging:\n    level: error\n'),
    /config\.edgemicro\.port: is not defined[\s\S]*config\.edgemicro\.logging\.dir: is not defined/,
  );
});

test('translation: base-path routes, timeouts (request_timeout in seconds, proxy timeout in ms), limits, headers', () => {
  const s = load(
    [
      'edgemicro:',
      '  port: 8000',
      '  max_connections: 50',
      '  keep_alive_timeout: 61000',
      '  request_timeout: 7',
      '  logging: { level: warn, to_console: true }',
      '  plugins: { sequence: [] }',
      'headers:',
      '  via: false',
      '  host: false',
    ].join('\n'),
  );
  const config = translate(
    s,
    [
      proxy('a', '/v1', 'http://127.0.0.1:9/api'),
      proxy('b', '/v1/deep/', 'http://127.0.0.1:9/', { timeout: 1500 }),
    ],
    { baseDir: '/cfg', plugins: [] },
  );
  validateConfig(config);
  const routes = config.servers[0]!.routes;
  assert.deepEqual(
    routes.map((r) => r.match),
    [{ basePath: '/v1' }, { basePath: '/v1/deep' }],
  );
  assert.equal(config.upstreams!['proxy:a']!.readTimeoutMs, 7000);
  assert.equal(config.upstreams!['proxy:b']!.readTimeoutMs, 1500);
  assert.equal(config.limits!.maxConnections, 50);
  assert.equal(config.limits!.keepAliveTimeoutMs, 61000);
  assert.equal(config.limits!.headersTimeoutMs, 66000);
  assert.equal(config.log!.level, 'warn');
  const action = routes[0]!.action;
  assert.equal(action.type, 'proxy');
  if (action.type !== 'proxy') return;
  assert.equal(action.host, 'preserve');
  const names = (action.setHeaders ?? []).map((h) => h.name);
  assert.ok(names.includes('x-original-url') && names.includes('x-rewrite-url'));
  assert.ok(!names.includes('via'));
  assert.deepEqual(config.servers[0]!.listen, [{ address: '0.0.0.0', port: 8000 }]);
});

test('translation refuses two proxies on one base path, and wildcard base paths it cannot route as edgemicro does, naming them', () => {
  const s = load('edgemicro:\n  port: 8000\n  logging: { to_console: true }\n');
  assert.throws(
    () =>
      translate(
        s,
        [
          proxy('a', '/x', 'http://h/'),
          proxy('b', '/x/', 'http://h/'),
          proxy('c', '/x/*/z', 'http://h/'),
          proxy('d', '/y/{a,b}/*', 'http://h/'),
          proxy('e', '/w/*', 'http://h/'),
          proxy('f', '/w/**/v', 'http://h/'),
        ],
        { baseDir: '/', plugins: [] },
      ),
    (err: Error) => {
      assert.match(err.message, /proxy "b": base path "\/x\/" is already used by proxy "a"/);
      assert.match(
        err.message,
        /proxy "c": wildcard base path "\/x\/\*\/z" overlaps the base path "\/x" of proxy "a"/,
      );
      assert.match(
        err.message,
        /proxy "d": base path "\/y\/\{a,b\}\/\*": only "\*" and "\*\*" are supported/,
      );
      assert.match(
        err.message,
        /proxy "f": wildcard base path "\/w\/\*\*\/v" starts like a base path of proxy "e"/,
      );
      return true;
    },
  );
  // A wildcard base path alone: routed on its literal part, the glob checked by a gate plugin first.
  const ok = translate(s, [proxy('g', '/api/*/orders', 'http://h/o')], { baseDir: '/', plugins: [] });
  const route = ok.servers[0]!.routes[0]!;
  assert.deepEqual(route.match, { basePath: '/api' });
  assert.deepEqual(route.plugins, ['gatehouse:base-path:g']);
});

test('edgemicro error bodies (§4.9), byte-exact', () => {
  const nf = renderEdgemicroError({ code: 'not_found', status: 404, message: 'x' });
  assert.deepEqual(nf, {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: '{"message":"no match found","status":404}',
  });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
    errno: -111,
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address: '127.0.0.1',
    port: 9,
  });
  assert.equal(
    renderEdgemicroError({ code: 'upstream_connect_failed', status: 502, message: 'x', cause: refused }).body,
    '{"message":"connect ECONNREFUSED 127.0.0.1:9","errno":-111,"code":"ECONNREFUSED","syscall":"connect","address":"127.0.0.1","port":9}',
  );
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  assert.equal(
    renderEdgemicroError({ code: 'upstream_reset', status: 502, message: 'x', cause: reset }).body,
    '{"message":"socket hang up","code":"ECONNRESET"}',
  );
  assert.deepEqual(renderEdgemicroError({ code: 'upstream_timeout', status: 504, message: 'x' }), {
    status: 504,
    headers: {},
    body: '{"message":"Gateway timed out trying to reach target"}',
  });
  assert.deepEqual(renderEdgemicroError({ code: 'header_too_large', status: 431, message: 'x' }), {
    status: 400,
    headers: {},
    body: '{"error":"header length more than allowed size"}',
  });
  assert.equal(
    renderEdgemicroError({ code: 'plugin_error', status: 500, message: 'x', cause: new Error('boom') }).body,
    '{"message":"boom"}',
  );
  assert.equal(
    renderEdgemicroError({ code: 'plugin_error', status: 500, message: 'x', cause: 'str' }).body,
    '"str"',
  );
});

test('edge_config.proxyPattern: "*" is any run, anchored; every other character is itself', () => {
  const all = ['edgemicro_hello', 'edgemicro_h.llo', 'edgemicroXhello', 'x_edgemicro_a', 'edgemicro_'].map(
    (n) => proxy(n, `/${n}`, 'http://h/'),
  );
  const names = (pattern: string): string[] => filterProxies(all, undefined, pattern).map((p) => p.name);
  assert.deepEqual(names('edgemicro_*'), ['edgemicro_hello', 'edgemicro_h.llo', 'edgemicro_']);
  assert.deepEqual(names('edgemicro_h.llo'), ['edgemicro_h.llo']);
  assert.deepEqual(names('*hello'), ['edgemicro_hello', 'edgemicroXhello']);
  assert.deepEqual(names('*_*_*'), ['x_edgemicro_a']);
});
