// Property-based tests (fast-check) for the pure parts the request path relies on: the URI
// normaliser, the router against a reference model of nginx's location rules, and template
// compilation. Never a crash, never a hang, never a result that breaks the invariants routing and
// authorisation depend on. Runs are seeded by fast-check and bounded in count and time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTarget } from '../../packages/core/src/routing/uri.js';
import { Router, normalizeBasePath } from '../../packages/core/src/routing/router.js';
import {
  compileTemplate,
  TemplateError,
  type VariableScope,
  type VariableSource,
} from '../../packages/core/src/routing/variables.js';
import type { RouteMatch } from '../../packages/core/src/config/types.js';

// A hang shows up as the file's timeout; per-call timing is not asserted (CI machines are shared).
const RUNS = { numRuns: 1500, interruptAfterTimeLimit: 8000 };

/** Path pieces that exercise decoding, dot segments, separators and odd bytes. */
const PIECE = fc.constantFrom(
  '/',
  '//',
  '.',
  '..',
  '/./',
  '/../',
  'a',
  'b',
  'v1',
  'secure',
  ';',
  ';x=1',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '\\',
  '%25',
  '%252e',
  '%00',
  '%',
  '%g1',
  '%41',
  '%c3%a9',
  '%ff',
  'é',
  '~',
  '?',
  '?q=%2f',
  '#',
  ' ',
  '\t',
  '*',
  ':',
  '@',
);
const TARGET = fc.array(PIECE, { maxLength: 12 }).map((p) => '/' + p.join(''));

function segments(path: string): string[] {
  return path.split('/').slice(1);
}

test(
  'parseTarget: never throws, never hangs; accepted targets have no dot segments or empty segments',
  { timeout: 30_000 },
  () => {
    fc.assert(
      fc.property(fc.oneof(TARGET, fc.string({ maxLength: 40 })), (target) => {
        const r = parseTarget(target);
        if (typeof r === 'string') {
          assert.ok(r === 'invalid_target' || r === 'ambiguous_path');
          return;
        }
        assert.equal(r.uri[0], '/');
        const inner = segments(r.uri).slice(0, -1); // the last one may be '' (trailing slash)
        for (const s of inner)
          assert.ok(
            s !== '' && s !== '.' && s !== '..',
            `uri ${JSON.stringify(r.uri)} from ${JSON.stringify(target)}`,
          );
        assert.ok(!segments(r.uri).includes('..') && !segments(r.uri).includes('.'));
        assert.ok(!/[\x00-\x1f\x7f]/.test(r.uri), `control character in uri from ${JSON.stringify(target)}`);
        // The raw path kept for base-path targets has no dot segment either, encoded or not.
        for (const s of segments(r.cleanPath).map((x) => x.replace(/%2e/gi, '.')))
          assert.ok(
            s !== '.' && s !== '..',
            `cleanPath ${JSON.stringify(r.cleanPath)} from ${JSON.stringify(target)}`,
          );
        assert.equal(r.rawPath + (r.hasQuery ? `?${r.args}` : ''), target);
      }),
      RUNS,
    );
  },
);

test('parseTarget: normalising is idempotent on the decoded path', { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(TARGET, (target) => {
      const r = parseTarget(target);
      if (typeof r === 'string') return;
      const again = parseTarget(encodeURI(r.uri).replace(/\?/g, '%3F').replace(/#/g, '%23'));
      if (typeof again === 'string') return; // re-encoding may legitimately produce a refused form (e.g. %2F next to dots)
      assert.equal(again.uri, r.uri);
    }),
    RUNS,
  );
});

// ---- Router against a reference model ---------------------------------------------------------

type Spec = { id: number; match: RouteMatch };

const SEG = fc.constantFrom('a', 'b', 'ab', 'v1', 'x.php', 'c');
const PREFIX = fc
  .array(SEG, { maxLength: 3 })
  .chain((segs) => fc.constantFrom('', '/').map((tail) => '/' + segs.join('/') + (segs.length ? tail : '')));
const REGEXES = ['^/a', '\\.php$', '^/b/', 'c$', '^/v1/[a-z]+$', '/ab'];
const MATCH: fc.Arbitrary<RouteMatch> = fc.oneof(
  PREFIX.map((exact) => ({ exact })),
  fc.tuple(PREFIX, fc.boolean()).map(([prefix, stopRegex]) => ({ prefix, stopRegex })),
  PREFIX.map((basePath) => ({ basePath })),
  fc
    .tuple(fc.constantFrom(...REGEXES), fc.boolean())
    .map(([regex, caseInsensitive]) => ({ regex, caseInsensitive })),
);
const URI = fc
  .array(fc.constantFrom('a', 'b', 'ab', 'A', 'v1', 'x.php', 'c', 'abc'), { maxLength: 4 })
  .chain((segs) => fc.constantFrom('', '/').map((tail) => '/' + segs.join('/') + (segs.length ? tail : '')));

/** nginx's rules written the obvious way (plus edgemicro base paths: segment boundary, no regex after). */
function reference(routes: Spec[], uri: string): number | undefined {
  const exact = routes.find((r) => 'exact' in r.match && r.match.exact === uri);
  if (exact) return exact.id;
  let best: { id: number; len: number; stop: boolean } | undefined;
  for (const r of routes) {
    const m = r.match;
    let p: string | undefined;
    let stop = false;
    if ('prefix' in m && uri.startsWith(m.prefix)) {
      p = m.prefix;
      stop = m.stopRegex === true;
    } else if ('basePath' in m) {
      const b = normalizeBasePath(m.basePath);
      if (b === '/' || uri === b || uri.startsWith(`${b}/`)) {
        p = b;
        stop = true;
      }
    }
    if (p !== undefined && (!best || p.length > best.len)) best = { id: r.id, len: p.length, stop };
  }
  if (best?.stop) return best.id;
  for (const r of routes) {
    const m = r.match;
    if ('regex' in m && new RegExp(m.regex, m.caseInsensitive ? 'i' : '').test(uri)) return r.id;
  }
  return best?.id;
}

test('Router.select agrees with a reference model of nginx location selection', { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(
      fc.array(MATCH, { minLength: 1, maxLength: 8 }),
      fc.array(URI, { minLength: 1, maxLength: 8 }),
      (matches, uris) => {
        const router = new Router<number>();
        const accepted: Spec[] = [];
        matches.forEach((match, id) => {
          // Duplicates are config errors (the router says so); they take no part in selection.
          if (router.add(match, id) === undefined) accepted.push({ id, match });
        });
        for (const uri of uris) {
          const got = router.select(uri)?.route;
          assert.equal(got, reference(accepted, uri), `uri ${uri} with routes ${JSON.stringify(accepted)}`);
        }
      },
    ),
    RUNS,
  );
});

// ---- Templates --------------------------------------------------------------------------------

const SCOPE: VariableScope = { defined: new Set(['token', 'name']), maps: new Map([['mapped', () => 'M']]) };
const SOURCE: VariableSource = {
  start: 0,
  method: 'GET',
  requestUri: '/r?q=1',
  uri: '/r',
  args: 'q=1&apikey=k',
  hasQuery: true,
  scheme: 'http',
  host: 'h.test',
  header: (name: string) => ({ 'x-a': 'xa', 'x-multi': '1, 2' })[name],
  remoteAddr: '127.0.0.1',
  serverPort: '80',
  serverName: 'h.test',
  captures: Object.assign(['/r', 'one'], {
    index: 0,
    input: '/r',
    groups: { name: 'n' },
  }) as unknown as RegExpExecArray,
  vars: null,
  mapValues: null,
  upstreamHeaders: null,
  clientCertEscaped: () => '',
};
const TPL_PIECE = fc.constantFrom(
  '$',
  '$$',
  '{',
  '}',
  '${',
  'uri',
  'host',
  'http_x_a',
  'http_x_multi',
  'arg_q',
  'arg_apikey',
  '1',
  '12',
  'token',
  'mapped',
  'unknown_var',
  'upstream_http_x',
  'x',
  '/',
  ' ',
  '-',
  '_',
  'é',
  '\\',
);

test(
  'compileTemplate: compiles or throws a TemplateError naming the source; evaluation always yields a string',
  { timeout: 30_000 },
  () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(TPL_PIECE, { maxLength: 12 }).map((p) => p.join('')),
          fc.string({ maxLength: 30 }),
        ),
        (source) => {
          let tpl;
          try {
            tpl = compileTemplate(source, SCOPE);
          } catch (err) {
            assert.ok(
              err instanceof TemplateError,
              `non-TemplateError for ${JSON.stringify(source)}: ${String(err)}`,
            );
            assert.equal(err.source, source);
            assert.ok(err.message.length > 0);
            return;
          }
          const v = tpl.evaluate({ ...SOURCE, vars: null });
          assert.equal(typeof v, 'string');
          if (!source.includes('$')) {
            assert.equal(tpl.constant, source);
            assert.equal(v, source);
          }
        },
      ),
      RUNS,
    );
  },
);

test('the reference model is not vacuous: it distinguishes the rules', () => {
  const routes: Spec[] = [
    { id: 0, match: { prefix: '/a' } },
    { id: 1, match: { regex: '^/a/b' } },
    { id: 2, match: { prefix: '/a/b/c', stopRegex: true } },
    { id: 3, match: { exact: '/a' } },
    { id: 4, match: { basePath: '/v1' } },
  ];
  assert.equal(reference(routes, '/a'), 3);
  assert.equal(reference(routes, '/a/x'), 0);
  assert.equal(reference(routes, '/a/b'), 1);
  assert.equal(reference(routes, '/a/b/c/d'), 2);
  assert.equal(reference(routes, '/v1x'), undefined);
  assert.equal(reference(routes, '/v1/x'), 4);
});
