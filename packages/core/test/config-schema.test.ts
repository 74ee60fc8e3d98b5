// The config schema: the engine's own checker (schema-check.ts) agrees with a general JSON Schema
// validator (ajv) on what the generated schema accepts, and problems name their key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { ConfigError, validateConfig, type GatehouseConfig, type LimitsConfig } from '../src/index.js';
import { checkSchema } from '../src/config/schema-check.js';
import { CONFIG_SCHEMA } from '../src/config/schema.generated.js';

/** A config that uses most of the schema: every kind of union branch, records, recursion. */
const FULL: GatehouseConfig = {
  servers: [
    {
      name: 'main',
      listen: [{ address: '127.0.0.1', port: 0, tls: true, http2: true }],
      serverNames: ['a.example'],
      tls: {
        certificate: { certFile: 'c.pem', keyFile: 'k.pem' },
        sni: [{ pfxFile: 'x.p12', passphrase: 'p', serverNames: ['b.example'] }],
        minVersion: 'TLSv1.2',
        clientCertificate: { mode: 'optional', ca: 'CA' },
      },
      rewrite: [
        {
          type: 'if',
          condition: { type: 'matches', value: '$uri', regex: '^/old', negate: false },
          then: [{ type: 'rewrite', regex: '^/old(.*)', replacement: '/new$1', flag: 'last' }],
        },
        { type: 'set', variable: 'v', value: '' },
      ],
      routes: [
        {
          match: { basePath: '/v1' },
          plugins: ['oauth'],
          action: {
            type: 'proxy',
            upstream: 'api',
            target: 'base_path',
            host: { template: '$host' },
            upgrade: ['websocket'],
            setHeaders: [{ name: 'x-a', value: '1' }],
            options: { readTimeoutMs: 1000, tls: { verify: false } },
            cache: { key: '$uri', validMs: 100 },
          },
        },
        {
          match: { exact: '/x' },
          action: { type: 'return', status: 204, headers: [{ name: 'x-b', value: '' }] },
        },
        {
          match: { regex: '^/r', caseInsensitive: true },
          action: { type: 'proxy', upstream: 'http://h$1', host: 'preserve' },
        },
        {
          match: { prefix: '/', stopRegex: true },
          authRequest: { uri: '/auth', set: [{ variable: 'u', value: '$upstream_http_x' }] },
          action: { type: 'proxy', upstream: 'api', upgrade: false },
        },
      ],
      limits: { clientBodyTimeoutMs: 0, sendTimeoutMs: 30_000 },
      paths: { ignoreCase: true },
      underscoresInHeaders: false,
    },
  ],
  upstreams: { api: { url: 'http://127.0.0.1:9', tls: { certFile: 'c', keyFile: 'k' }, maxQueued: 0 } },
  maps: [
    {
      source: '$host',
      variable: 'm',
      entries: [{ key: '', value: 'e' }],
      regexEntries: [{ regex: 'a', value: 'b' }],
    },
  ],
  limits: { maxHeaderSize: 2048, clientBodyTimeoutMs: 60_000, sendTimeoutMs: 0 },
  headers: { xForwardedFor: 'replace', via: 'gh' },
  log: { level: 'warn', access: '/tmp/a.log' },
  admin: { port: 0 },
  hosts: { h: '127.0.0.1' },
  egressProxy: { http: 'http://p:3128', noProxy: ['.local'], tunnel: true },
  drainTimeoutMs: 0,
  plugins: { dir: 'plugins', config: { oauth: { a: 1 } } },
};

function schemaProblems(v: unknown): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  checkSchema(v, CONFIG_SCHEMA, (path, message) => problems.push({ path, message }));
  return problems;
}

/** Every [container, key] in a JSON value, depth first. */
function slots(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) (out.push([v as Record<string, unknown>, k]), slots(x, out));
  return out;
}

test('the full example is valid for the engine’s checker and for ajv', () => {
  assert.deepEqual(schemaProblems(FULL), []);
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  for (const k of ['expected', 'patternMessage', 'minItemsMessage']) ajv.addKeyword({ keyword: k });
  assert.ok(ajv.validate(CONFIG_SCHEMA, FULL), ajv.errorsText());
  assert.doesNotThrow(() => validateConfig(FULL, { plugins: ['oauth'] }));
});

test('the engine’s checker and ajv agree on every mutation of the full example', () => {
  const ajv = new Ajv({ strict: true, strictRequired: false });
  for (const k of ['expected', 'patternMessage', 'minItemsMessage']) ajv.addKeyword({ keyword: k });
  const valid = ajv.compile(CONFIG_SCHEMA);
  const count = slots(FULL).length;
  // Edge values of every kind the schema constrains (bounds of each integer range, empty strings,
  // union tags, wrong types), and arbitrary JSON.
  const edges = fc.constantFrom<unknown>(
    ...[undefined, null, true, false, '', 'x', '/p', 'a b', 'TLSv1.3', 'proxy', 'if', 'env', 'preserve'],
    ...[-1, 0, 1, 1.5, 99, 100, 999, 1000, 1023, 1024, 65535, 65536, 100_000, 100_001, 1_000_001],
    ...[2 ** 26, 2 ** 26 + 1, 2 ** 30, 2 ** 30 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 10_000_001],
    ...[[], ['x'], [1], {}, { type: 'proxy' }, { prefix: '/' }, { template: '' }, { colour: 1 }],
  );
  const value = fc.oneof(
    { arbitrary: edges, weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(count - 1), value, fc.nat(4)), { minLength: 1, maxLength: 2 }),
      (edits) => {
        const cfg = structuredClone(FULL) as unknown;
        for (const [at, v, rename] of edits) {
          const all = slots(cfg);
          const [container, key] = all[at % all.length]!;
          if (rename === 0 && !Array.isArray(container)) container[`${key}x`] = v;
          else (container as Record<string | number, unknown>)[key] = v;
        }
        // JSON as a config file would give it (no undefined), then both verdicts.
        const json = JSON.parse(JSON.stringify(cfg)) as unknown;
        const ours = schemaProblems(json);
        assert.equal(
          ours.length === 0,
          valid(json),
          `${JSON.stringify(ours)} vs ${JSON.stringify(valid.errors)}`,
        );
      },
    ),
    { seed: 23, numRuns: 3000 },
  );
});

test('the limits and egress fields other parts of the engine read are checked with their key paths', () => {
  const limits: LimitsConfig = { clientBodyTimeoutMs: 60_000, sendTimeoutMs: 0 };
  const base = structuredClone(FULL);
  base.limits = limits;
  assert.deepEqual(validateConfig(base, { plugins: ['oauth'] }).limits, limits);
  const bad = structuredClone(FULL) as unknown as {
    limits: object;
    servers: Array<{ limits: object }>;
    egressProxy: object;
  };
  bad.limits = { clientBodyTimeoutMs: -1, sendTimeoutMs: 'slow' };
  bad.servers[0]!.limits = { sendTimeoutMs: 1.5 };
  bad.egressProxy = { tunnel: 'yes' };
  assert.throws(
    () => validateConfig(bad, { plugins: ['oauth'] }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(
        e.problems.map((p) => `${p.path}: ${p.message}`),
        [
          'servers[0].limits.sendTimeoutMs: expected an integer from 0 to 2147483647, got number 1.5',
          'limits.clientBodyTimeoutMs: expected an integer from 0 to 2147483647, got number -1',
          'limits.sendTimeoutMs: expected an integer from 0 to 2147483647, got "slow"',
          'egressProxy.tunnel: expected true or false, got "yes"',
        ],
      );
      return true;
    },
  );
});

test('a union reports the problem of the branch the value is meant as; secrets are never echoed', () => {
  const bad = structuredClone(FULL) as unknown as {
    servers: Array<{ rewrite: unknown[]; routes: Array<{ action: Record<string, unknown> }> }>;
    upstreams: { api: { tls: Record<string, unknown> } };
  };
  bad.servers[0]!.rewrite = [
    { type: 'if', condition: { type: 'equals', value: '$a' }, then: [{ type: 'set' }] },
    7,
  ];
  bad.servers[0]!.routes[0]!.action.host = 'client';
  bad.upstreams.api.tls.passphrase = 1234;
  const problems = schemaProblems(bad).map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(problems, [
    'servers[0].rewrite[0].condition.to: expected a string, got nothing',
    'servers[0].rewrite[0].then[0].variable: expected a non-empty string, got nothing',
    'servers[0].rewrite[0].then[0].value: expected a string, got nothing',
    'servers[0].rewrite[1]: expected a statement object, got number 7',
    'servers[0].routes[0].action.host: expected "preserve", "upstream" or a { template } object, got "client"',
    'upstreams.api.tls.passphrase: expected a non-empty string, got a number (value not shown)',
  ]);
});
