// The engine's logger and access log write pino's lines themselves (src/observability/logger.ts,
// access-log.ts): the same bytes pino 10 wrote with the options the engine gave it, for hand-picked
// and generated fields, messages, bindings and levels; and the lines the logger leaves to pino
// (printf-style arguments, BigInt, cycles) too.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { accessLine, createAccessLog } from '../src/observability/access-log.js';
import { createLogger, type Logger } from '../src/observability/logger.js';

/** What createLogger passed to pino before it wrote its lines itself. */
const REDACT = [
  'key',
  'passphrase',
  'password',
  'secret',
  'token',
  'authorization',
  '*.key',
  '*.passphrase',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];

type Capture = { lines: string[]; write(s: string): void };
const capture = (): Capture => {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
};

function pair(t: TestContext, level = 'trace') {
  t.mock.method(Date, 'now', () => 1_700_000_000_123);
  const ours = capture();
  const theirs = capture();
  const logger = createLogger({ level: level as 'trace' }, ours as unknown as NodeJS.WritableStream);
  const reference = pino(
    { level, base: { name: 'gatehouse' }, redact: { paths: REDACT, censor: '[redacted]' } },
    theirs,
  ) as unknown as Logger;
  return { logger, reference, ours, theirs };
}

/** True when `logger` (or the child) has not needed pino for any line. */
const ownLinesOnly = (logger: Logger): boolean =>
  (logger as unknown as { _twin?: unknown })._twin === undefined;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Method = (typeof LEVELS)[number];

const cycle: Record<string, unknown> = { a: 1 };
cycle.self = cycle;
const withCause = new Error('outer', { cause: new TypeError('inner') });
const withProps = Object.assign(new RangeError('range'), {
  code: 'E_RANGE',
  status: 7,
  nested: new Error('n'),
});
class Custom extends Error {
  extra = 'x';
}

/** [fields-or-message, message?] as the engine, its plugins and its supervisor call the logger. */
const CASES: Array<[unknown, unknown?]> = [
  [{ server: 's', address: '127.0.0.1', port: 8080, tls: false }, 'listening'],
  [{ err: { message: 'bad config' } }, 'configuration rejected; keeping the running one'],
  [{ err: { message: 'x', code: 'E' } }],
  [{ generation: 3 }, 'configuration reloaded'],
  [{ plugin: 'p', event: 'onrequest', err: 'text' }, 'plugin error'],
  ['all workers exited'],
  [{ pid: 1, err: { message: 'EPIPE' } }, 'worker channel error'],
  [{ password: 'p', token: 't', key: 'k', secret: 's', passphrase: 'x', authorization: 'a' }, 'top-level'],
  [{ password: undefined, token: null, key: 0, secret: false, authorization: () => 1 }, 'top-level odd'],
  [{ cfg: { password: 'p', token: 't', user: 'u', deep: { password: 'stays' } } }, 'nested'],
  [{ cfg: { password: undefined } }, 'own undefined is censored'],
  [{ headers: { authorization: 'a', 'x-api-key': 'k', cookie: 'c', accept: '*/*', token: 't' } }, 'headers'],
  [{ other: { 'x-api-key': 'kept', cookie: 'kept' } }, 'only headers has those'],
  [{ list: [1, null, { password: 'p' }], empty: [], holes: [1, , 3] }, 'arrays'],
  [{ n: NaN, i: Infinity, neg: -0, big: 1e21, s: 'a"b\\c\u0001\u2028', e: '' }, 'numbers and strings'],
  [{ sym: Symbol('x'), f: () => 1, u: undefined, d: new Date(0) }, 'skipped and dates'],
  [{ 'we"ird': 1, ünï: 2, '\u0001': 3, ['x'.repeat(120)]: 4 }, 'keys'],
  [{ lone: '\ud800', long: 'y'.repeat(150) + '"' }, '\ud800 message'],
  [{ msg: 'inner' }],
  [{ msg: 'inner' }, 'outer'],
  [{ err: new TypeError('boom') }],
  [new Error('direct')],
  [new Error('direct'), 'with message'],
  [withCause],
  [{ err: withProps }, 'error with properties'],
  [{ err: new AggregateError([new Error('a'), new Error('b')], 'many') }],
  [{ err: new Custom('custom') }],
  [{ err: { message: 5 } }, 'not error-like'],
  [{ err: 'just a string' }],
  [{ error: new Error('not under err') }, 'plain object for Errors elsewhere'],
  [null],
  [undefined, 'u'],
  [{ a: 1 }, 42 as unknown as string],
  [{ a: 1 }, { b: 2 } as unknown as string],
  [{ a: 1 }, { password: 'p' } as unknown as string],
  [Object.create({ inherited: 1 }, { own: { value: 2, enumerable: true } }), 'inherited skipped'],
  [Object.assign(Object.create(null), { nullProto: true }), 'null prototype'],
  [{ buf: Buffer.from('hi') }, 'a buffer'],
  [{ map: new Map([[1, 2]]), set: new Set([1]) }, 'collections'],
  [{ toJ: { toJSON: () => ({ password: 'via toJSON' }) } }, 'toJSON'],
  [{ big: 10n }, 'bigint (left to pino)'],
  [{ c: cycle }, 'cycle (left to pino)'],
  [{ a: 1 }, 'printf %s (left to pino)'],
];

test('each call shape writes the line pino wrote', (t) => {
  const { logger, reference, ours, theirs } = pair(t);
  for (const [i, [a, b]] of CASES.entries()) {
    const method = LEVELS[i % LEVELS.length] as Method;
    const args = b === undefined ? [a] : [a, b];
    if (i === CASES.length - 1) args.push('extra');
    (logger[method] as (...x: unknown[]) => void)(...args);
    (reference[method] as (...x: unknown[]) => void)(...args);
  }
  assert.equal(ours.lines.length, CASES.length);
  for (let i = 0; i < CASES.length; i++) assert.equal(ours.lines[i], theirs.lines[i], `case ${i}`);
});

test('the usual lines are written without pino', (t) => {
  const { logger } = pair(t);
  for (const [a, b] of CASES.slice(0, 37))
    (logger.info as (...x: unknown[]) => void)(...(b === undefined ? [a] : [a, b]));
  const child = logger.child({ plugin: 'p' });
  child.warn({ a: 1 }, 'child');
  assert.equal(ownLinesOnly(logger), true, 'the logger needed pino');
  assert.equal(ownLinesOnly(child), true, 'the child needed pino');
});

test('children: bindings, redaction of bindings, and levels that follow the parent', (t) => {
  const { logger, reference, ours, theirs } = pair(t, 'info');
  const bindings: Array<Record<string, unknown>> = [
    { component: 'plugins' },
    { plugin: 'quota', password: 'p', level: 'dropped', serializers: 1, formatters: 2, customLevels: 3 },
    { role: 'primary', err: { message: 'e' }, f() {}, u: undefined, headers: { cookie: 'c' } },
  ];
  for (const b of bindings) {
    const ours1 = logger.child(b);
    const theirs1 = reference.child(b);
    const ours2 = ours1.child({ grand: 'child', n: NaN });
    const theirs2 = theirs1.child({ grand: 'child', n: NaN });
    for (const [l1, l2] of [
      [ours1, theirs1],
      [ours2, theirs2],
    ] as const) {
      l1.info({ x: 1 }, 'm');
      l2.info({ x: 1 }, 'm');
      l1.debug('hidden at info');
      l2.debug('hidden at info');
    }
    // Children follow the parent's level until given their own, as pino's do.
    logger.level = 'debug';
    reference.level = 'debug';
    ours2.debug('now shown');
    theirs2.debug('now shown');
    ours1.level = 'error';
    theirs1.level = 'error';
    ours1.warn('hidden');
    theirs1.warn('hidden');
    ours2.warn('hidden too');
    theirs2.warn('hidden too');
    assert.equal(ours2.level, theirs2.level);
    logger.level = 'info';
    reference.level = 'info';
  }
  assert.deepEqual(ours.lines, theirs.lines);
  assert.throws(() => logger.child(undefined as never), /missing bindings for child Pino/);
});

test('levels: names, silent, isLevelEnabled, and unknown levels refused as pino refuses them', (t) => {
  const { logger, reference } = pair(t, 'warn');
  for (const level of [...LEVELS, 'silent']) {
    logger.level = level;
    reference.level = level;
    assert.equal(logger.level, reference.level);
    for (const probe of [...LEVELS, 'silent', 'nope'])
      assert.equal(logger.isLevelEnabled(probe), reference.isLevelEnabled(probe), `${level} ${probe}`);
  }
  assert.throws(
    () => (logger.level = 'loud'),
    (err: Error) => {
      assert.throws(() => (reference.level = 'loud'), { message: err.message });
      return true;
    },
  );
  assert.equal(createLogger({ level: 'INFO' as 'info' }, capture() as never).level, 'info');
});

test('generated fields, messages and bindings write the lines pino writes', (t) => {
  const key = fc.oneof(
    fc.constantFrom('password', 'token', 'key', 'headers', 'err', 'msg', 'level', 'time', 'name', 'cookie'),
    fc.string({ maxLength: 6 }),
  );
  const leaf = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.bigInt(),
    fc.string({ maxLength: 8 }).map((m) => new Error(m)),
    fc.record({ message: fc.string({ maxLength: 8 }), code: fc.string({ maxLength: 3 }) }),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 3 }),
    object: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  })).node;
  const fields = fc.dictionary(key, value, { maxKeys: 6 });
  const msg = fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: undefined });
  fc.assert(
    fc.property(
      fields,
      msg,
      fc.option(fields, { nil: undefined }),
      fc.constantFrom(...LEVELS),
      (f, m, b, level) => {
        const { logger, reference, ours, theirs } = pair(t);
        // The same lines, or the same error (pino throws, for instance, on null-prototype bindings).
        const run = (base: Logger): string => {
          try {
            const l = b ? base.child(b) : base;
            (l[level] as (...x: unknown[]) => void)(f, m);
            if (m !== undefined) (l[level] as (...x: unknown[]) => void)(m);
            return 'ok';
          } catch (err) {
            return String(err);
          }
        };
        assert.equal(run(logger), run(reference));
        assert.deepEqual(ours.lines, theirs.lines);
        t.mock.restoreAll();
      },
    ),
    { numRuns: 400 },
  );
});

/** pino as the access log configured it. */
function accessReference(t: TestContext) {
  t.mock.method(Date, 'now', () => 1_700_000_000_123);
  const theirs = capture();
  const reference = pino(
    {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: () => ({ log: 'access' }) },
    },
    theirs,
  );
  return { reference, theirs };
}

test('access log lines are the ones pino wrote', (t) => {
  const { reference, theirs } = accessReference(t);
  const ours: string[] = [];
  const requests: Array<Record<string, unknown>> = [
    {
      remote: '127.0.0.1',
      method: 'GET',
      uri: '/a?apikey=***&x=1',
      status: 200,
      route: 'r',
      server: 's',
      upstream: '127.0.0.1:8080',
      duration_ms: 1.234,
      bytes_in: 78,
      bytes_out: 120,
      error: null,
    },
    {
      remote: undefined,
      method: 'P"O\\ST',
      uri: '/\u0001\u00ff\ud800' + 'x'.repeat(120),
      status: 502,
      route: null,
      server: null,
      upstream: null,
      duration_ms: NaN,
      bytes_in: undefined,
      bytes_out: -0,
      error: 'upstream_reset',
    },
  ];
  for (const r of requests) {
    ours.push(accessLine(r));
    reference.info(r);
  }
  assert.deepEqual(ours, theirs.lines);
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string({ maxLength: 6 }),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 12 }),
          fc.double(),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
        ),
      ),
      (fields) => {
        theirs.lines.length = 0;
        reference.info(fields);
        assert.equal(accessLine(fields), theirs.lines[0]);
      },
    ),
    { numRuns: 300 },
  );
});

test('the access log writes the request it is given', (t) => {
  t.mock.method(Date, 'now', () => 1_700_000_000_123);
  t.mock.method(performance, 'now', () => 1500.5);
  const out = capture();
  const log = createAccessLog(true, out as unknown as NodeJS.WritableStream);
  log.write({
    remoteAddr: '10.0.0.1',
    method: 'GET',
    requestUri: '/x?token=abc',
    status: 404,
    route: undefined,
    server: { name: 'main' },
    upstream: '',
    start: 1000,
    bytesIn: 10,
    bytesOut: 20,
    error: '',
  } as never);
  assert.deepEqual(out.lines, [
    '{"log":"access","time":"2023-11-14T22:13:20.123Z","remote":"10.0.0.1","method":"GET","uri":"/x?token=***",' +
      '"status":404,"route":null,"server":"main","upstream":null,"duration_ms":500.5,"bytes_in":10,"bytes_out":20,' +
      '"error":null}\n',
  ]);
  log.close();
});
