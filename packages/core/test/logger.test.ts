// The engine's log lines (src/observability/logger.ts): pino's line format, written by our own
// writer. Each call shape the engine, its plugins and the supervisor use gives the line pinned here;
// redaction, children and levels behave as documented; and no call throws, whatever it is given.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { accessLine, createAccessLog } from '../src/observability/access-log.js';
import { createLogger, type Logger } from '../src/observability/logger.js';

type Capture = { lines: string[]; write(s: string): void };
const capture = (): Capture => {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
};

function logger(t: TestContext, level = 'trace'): { log: Logger; out: Capture } {
  t.mock.method(Date, 'now', () => 1_700_000_000_123);
  const out = capture();
  return { log: createLogger({ level: level as 'trace' }, out as unknown as NodeJS.WritableStream), out };
}

const cycle: Record<string, unknown> = { a: 1 };
cycle.self = cycle;
const withCause = new Error('outer', { cause: new TypeError('inner') });
withCause.stack = 'Error: outer\n    at here';
(withCause.cause as Error).stack = 'TypeError: inner\n    at there';

/** [arguments of log.info, the line written]. */
const CASES: Array<[unknown[], string]> = [
  [
    [{ server: 's', address: '127.0.0.1', port: 8080, tls: false }, 'listening'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","server":"s","address":"127.0.0.1","port":8080,"tls":false,"msg":"listening"}\n',
  ],
  [
    ['all workers exited'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","msg":"all workers exited"}\n',
  ],
  [
    [{ password: 'p', token: 't', key: 'k', secret: 's', passphrase: 'x', authorization: 'a' }, 'top-level'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","password":"[redacted]","token":"[redacted]","key":"[redacted]","secret":"[redacted]","passphrase":"[redacted]","authorization":"[redacted]","msg":"top-level"}\n',
  ],
  [
    [{ cfg: { password: 'p', token: 't', user: 'u', deep: { password: 'stays' } } }, 'nested'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","cfg":{"password":"[redacted]","token":"[redacted]","user":"u","deep":{"password":"stays"}},"msg":"nested"}\n',
  ],
  [
    [
      { headers: { authorization: 'a', 'x-api-key': 'k', cookie: 'c', accept: '*/*', token: 't' } },
      'headers',
    ],
    '{"level":30,"time":1700000000123,"name":"gatehouse","headers":{"authorization":"[redacted]","x-api-key":"[redacted]","cookie":"[redacted]","accept":"*/*","token":"[redacted]"},"msg":"headers"}\n',
  ],
  [
    [{ other: { 'x-api-key': 'kept', cookie: 'kept' } }, 'only headers has those'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","other":{"x-api-key":"kept","cookie":"kept"},"msg":"only headers has those"}\n',
  ],
  [
    [{ n: NaN, i: Infinity, s: 'a"b\\c\u0001', u: undefined, f: () => 1, d: new Date(0) }, 'values'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","n":null,"i":null,"s":"a\\"b\\\\c\\u0001","d":"1970-01-01T00:00:00.000Z","msg":"values"}\n',
  ],
  [[{ msg: 'inner' }], '{"level":30,"time":1700000000123,"name":"gatehouse","msg":"inner"}\n'],
  [
    [{ err: { message: 'bad config' } }, 'configuration rejected'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","err":{"type":"Object","message":"bad config","stack":""},"msg":"configuration rejected"}\n',
  ],
  [
    [withCause],
    '{"level":30,"time":1700000000123,"name":"gatehouse","err":{"type":"Error","message":"outer: inner","stack":"Error: outer\\n    at here\\ncaused by: TypeError: inner\\n    at there"},"msg":"outer"}\n',
  ],
  [[null], '{"level":30,"time":1700000000123,"name":"gatehouse","msg":null}\n'],
  [
    [{ a: 1 }, { password: 'p' }],
    '{"level":30,"time":1700000000123,"name":"gatehouse","a":1,"msg":{"password":"[redacted]"}}\n',
  ],
  [
    [{ big: 10n, huge: 2n ** 70n }, 'bigint'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","big":10,"huge":"1180591620717411303424","msg":"bigint"}\n',
  ],
  [
    [{ c: cycle, twice: [cycle, cycle] }, 'cycle'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","c":{"a":1,"self":"[Circular]"},"twice":[{"a":1,"self":"[Circular]"},{"a":1,"self":"[Circular]"}],"msg":"cycle"}\n',
  ],
  [
    ['%s took %d ms', 'reload', 12],
    '{"level":30,"time":1700000000123,"name":"gatehouse","msg":"reload took 12 ms"}\n',
  ],
  [
    [{ a: 1 }, 'printf %s', 'after fields'],
    '{"level":30,"time":1700000000123,"name":"gatehouse","a":1,"msg":"printf after fields"}\n',
  ],
  [
    [
      {
        get boom() {
          throw new Error('getter threw');
        },
      },
      'throwing getter',
    ],
    '{"level":30,"time":1700000000123,"name":"gatehouse","logError":"a field could not be serialized: getter threw"}\n',
  ],
];

test('each call shape writes its line', (t) => {
  const { log, out } = logger(t);
  for (const [args] of CASES) (log.info as (...x: unknown[]) => void)(...args);
  assert.equal(out.lines.length, CASES.length);
  for (const [i, [, line]] of CASES.entries()) assert.equal(out.lines[i], line, `case ${i}`);
});

test('levels: the number in the line, silent, isLevelEnabled, unknown levels refused', (t) => {
  const { log, out } = logger(t, 'warn');
  log.info('hidden');
  log.warn('shown');
  log.fatal('fatal');
  assert.deepEqual(
    out.lines.map((l) => JSON.parse(l).level),
    [40, 60],
  );
  const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  for (const [i, level] of order.entries()) {
    log.level = level;
    assert.equal(log.level, level);
    for (const [j, probe] of order.entries())
      assert.equal(log.isLevelEnabled(probe), j >= i, `${level} ${probe}`);
    assert.equal(log.isLevelEnabled('nope'), false);
  }
  log.level = 'silent';
  log.fatal('nothing');
  assert.equal(out.lines.length, 2);
  assert.throws(() => (log.level = 'loud'), /unknown level loud/);
  assert.equal(createLogger({ level: 'INFO' as 'info' }, capture() as never).level, 'info');
});

test('children: bindings (censored like fields) on every line, levels that follow the parent', (t) => {
  const { log, out } = logger(t, 'info');
  const child = log.child({ plugin: 'quota', password: 'p', level: 'dropped', u: undefined });
  const grandchild = child.child({ grand: 'child' });
  child.info({ x: 1 }, 'm');
  grandchild.debug('hidden at info');
  log.level = 'debug';
  grandchild.debug('now shown');
  child.level = 'error';
  grandchild.warn('hidden: the child is at error');
  assert.deepEqual(out.lines, [
    '{"level":30,"time":1700000000123,"name":"gatehouse","plugin":"quota","password":"[redacted]","x":1,"msg":"m"}\n',
    '{"level":20,"time":1700000000123,"name":"gatehouse","plugin":"quota","password":"[redacted]","grand":"child","msg":"now shown"}\n',
  ]);
  assert.throws(() => log.child(undefined as never), /missing bindings/);
});

test('a node request passed as the fields is written as method, URL and censored headers', (t) => {
  const { log, out } = logger(t);
  const req = {
    method: 'GET',
    url: '/x',
    headers: { authorization: 'Bearer SECRET', cookie: 'c=SECRET', accept: '*/*' },
    socket: { remoteAddress: '10.0.0.1', remotePort: 5000, big: cycle },
  };
  log.info(req, 'request');
  assert.equal(
    out.lines[0],
    '{"level":30,"time":1700000000123,"name":"gatehouse","req":{"method":"GET","url":"/x","headers":' +
      '{"authorization":"[redacted]","cookie":"[redacted]","accept":"*/*"},"remoteAddress":"10.0.0.1",' +
      '"remotePort":5000},"msg":"request"}\n',
  );
});

test('generated fields: one JSON line each, secrets censored, never a throw', (t) => {
  const secret = fc.constantFrom('password', 'token', 'key', 'secret', 'passphrase', 'authorization');
  // The line's own keys (and the child's binding) are left out: a field of the same name is written
  // after them, as pino does, and JSON.parse keeps the last (seen with seed -351041006: `name: null`).
  const own = new Set(['level', 'time', 'name', 'plugin']);
  const key = fc.oneof(
    secret,
    fc.constantFrom('headers', 'err', 'msg', 'cfg'),
    fc.string({ maxLength: 6 }).filter((k) => !own.has(k)),
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
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 3 }),
    object: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  })).node;
  const fields = fc.dictionary(key, value, { maxKeys: 6 });
  fc.assert(
    fc.property(fields, fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (f, m) => {
      const { log, out } = logger(t);
      log.child({ plugin: 'p' }).warn(f, m);
      assert.equal(out.lines.length, 1);
      assert.ok(out.lines[0]!.endsWith('}\n'));
      const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
      assert.equal(line.level, 40);
      assert.equal(line.time, 1_700_000_000_123);
      assert.equal(line.name, 'gatehouse');
      assert.equal(line.plugin, 'p');
      const secrets = ['password', 'token', 'key', 'secret', 'passphrase', 'authorization'];
      for (const k of secrets) if (f[k] !== undefined) assert.equal(line[k], '[redacted]', k);
      // (A `msg` field is followed by the message's own `msg` key when there is a message.)
      for (const [k, v] of Object.entries(f).filter(([k]) => k !== 'msg' && !secrets.includes(k)))
        if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error) && !(v instanceof Date))
          for (const inner of ['password', 'token'])
            if (Object.hasOwn(v, inner))
              assert.equal((line[k] as Record<string, unknown>)[inner], '[redacted]');
      t.mock.restoreAll();
    }),
    { numRuns: 200 },
  );
});

test('access log lines: the fields in order, after log and an ISO time', (t) => {
  t.mock.method(Date, 'now', () => 1_700_000_000_123);
  assert.equal(
    accessLine({
      remote: undefined,
      method: 'P"O\\ST',
      uri: '/\u0001',
      status: 502,
      route: null,
      duration_ms: NaN,
      bytes_out: -0,
      error: 'upstream_reset',
    }),
    '{"log":"access","time":"2023-11-14T22:13:20.123Z","method":"P\\"O\\\\ST","uri":"/\\u0001","status":502,' +
      '"route":null,"duration_ms":null,"bytes_out":0,"error":"upstream_reset"}\n',
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
