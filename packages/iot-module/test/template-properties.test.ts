// Property-based tests: the renderer and the boolean evaluator are total (a result or a
// TemplateError with a sane position, nothing else), and agree with small reference models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluateBooleanExpression, renderTemplate, TemplateError } from '../src/template/index.js';

const RUNS = 400;
// A hang guard, not a speed assertion: every test here finishes in well under a second.
const HANG_GUARD = { timeout: 60_000 };

const lineCount = (text: string): number => text.split('\n').length;

/** Throws unless `e` is a TemplateError whose position lies inside `input`. */
function assertSaneError(e: unknown, input: string): void {
  if (!(e instanceof TemplateError)) throw e;
  assert.ok(
    Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount(input),
    `line ${e.line} of ${lineCount(input)}`,
  );
  if (e.column !== undefined) assert.ok(Number.isInteger(e.column) && e.column >= 1, `column ${e.column}`);
  assert.ok(e.message.startsWith(`line ${e.line}`));
  assert.ok(e.reason.length > 0);
}

const TOKENS = [
  '${',
  '}',
  '${A}',
  '${B}',
  '${EMPTY}',
  '${ZERO}',
  '${TOKEN_SERVER_PORT}',
  'A',
  '0',
  '1',
  'x',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '#if_tag ',
  '#endif_tag ',
  '#if_tag !',
  '#if_tag',
  '!',
  '&',
  '|',
  '(',
  ')',
  ',',
  'boolean_expression[',
  ']',
  '[',
  '$',
  '{',
  '#',
  'é',
  '\u0000',
];
/** Strings built from the language's own tokens find far more edge cases than random text. */
const templateLike = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(''));
const anyText = fc.oneof(
  templateLike,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ maxLength: 200 }),
);
const ENV = { A: 'a', B: '${A}', EMPTY: '', ZERO: '0', TOKEN_SERVER_PORT: '1' };

test('renderTemplate: any input gives a result or a TemplateError inside the input', HANG_GUARD, () => {
  fc.assert(
    fc.property(anyText, fc.boolean(), (input, legacy) => {
      const env = legacy ? { ...ENV, NGINX_CONFIG_ENV_VAR_LIST: 'A,ZERO' } : ENV;
      try {
        const out = renderTemplate(input, { env });
        assert.equal(typeof out.text, 'string');
        for (const n of out.notices) {
          if (n.line !== undefined) assert.ok(n.line >= 1 && n.line <= lineCount(input));
        }
      } catch (e) {
        assertSaneError(e, input);
      }
    }),
    { numRuns: RUNS * 3 },
  );
});

test(
  'evaluateBooleanExpression: any input gives a boolean or a TemplateError inside the input',
  HANG_GUARD,
  () => {
    fc.assert(
      fc.property(anyText, (input) => {
        try {
          assert.equal(
            typeof evaluateBooleanExpression(input, { resolve: (n) => (ENV as Record<string, string>)[n] }),
            'boolean',
          );
        } catch (e) {
          assertSaneError(e, input);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  },
);

test('text without template syntax is returned unchanged', HANG_GUARD, () => {
  const plain = fc.string({
    unit: fc.constantFrom('a', ' ', '\n', '\r\n', '$', '{', '}', '#', 'if_tag', ';', 'é'),
    maxLength: 80,
  });
  fc.assert(
    fc.property(plain, (input) => {
      fc.pre(!input.includes('${') && !/^[ \t]*#(if|endif)_tag/m.test(input));
      assert.equal(renderTemplate(input, { env: {} }).text, input);
    }),
    { numRuns: RUNS },
  );
});

// ---- boolean expressions against a model -------------------------------------------------

type Expr = { kind: 'operand'; text: string } | { kind: '!'; arg: Expr } | { kind: '&' | '|'; args: Expr[] };

const operandText = fc.constantFrom(
  '0',
  '1',
  'x',
  '00',
  'abc',
  '${ZERO}',
  '${EMPTY}',
  '${A}',
  '${UNSET}',
  'p${ZERO}',
);
const expr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    operandText.map((text) => ({ kind: 'operand' as const, text })),
    tie('e').map((arg) => ({ kind: '!' as const, arg })),
    fc.record({
      kind: fc.constantFrom('&' as const, '|' as const),
      args: fc.array(tie('e'), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).e;

const MODEL_VALUES: Record<string, string> = { ZERO: '0', EMPTY: '', A: 'a' };
function modelOperand(text: string): boolean {
  const value = text.replace(/\$\{(\w+)\}/g, (_, name: string) => MODEL_VALUES[name] ?? '0');
  return value !== '' && value !== '0';
}
function model(e: Expr): boolean {
  if (e.kind === 'operand') return modelOperand(e.text);
  if (e.kind === '!') return !model(e.arg);
  return e.kind === '&' ? e.args.every(model) : e.args.some(model);
}
function print(e: Expr, blank: () => string): string {
  if (e.kind === 'operand') return blank() + e.text + blank();
  const args = e.kind === '!' ? [e.arg] : e.args;
  return `${blank()}${e.kind}${blank()}(${args.map((a) => print(a, blank)).join(',')})${blank()}`;
}

test('boolean expressions evaluate like the model, whatever the blanks', HANG_GUARD, () => {
  fc.assert(
    fc.property(
      expr,
      fc.array(fc.constantFrom('', ' ', '\t', '  '), { minLength: 1, maxLength: 8 }),
      (e, blanks) => {
        let i = 0;
        const text = print(e, () => blanks[i++ % blanks.length]!);
        const resolve = (name: string): string | undefined => MODEL_VALUES[name];
        assert.equal(evaluateBooleanExpression(text, { resolve }), model(e), text);
        // The same expression inside a template line.
        const line = renderTemplate(`v=boolean_expression[${text}];`, { env: MODEL_VALUES }).text;
        assert.equal(line, `v=${model(e) ? 1 : 0};`);
      },
    ),
    { numRuns: RUNS },
  );
});

// ---- #if_tag blocks against a model ------------------------------------------------------

type Node = { kind: 'text' } | { kind: 'block'; value: string; negated: boolean; children: Node[] };
const node: fc.Arbitrary<Node> = fc.letrec<{ n: Node }>((tie) => ({
  n: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({ kind: 'text' as const }),
    fc.record({
      kind: fc.constant('block' as const),
      value: fc.constantFrom(
        '0',
        '1',
        '${ZERO}',
        '${EMPTY}',
        '${A}',
        '${UNSET}',
        'boolean_expression[&(${A},1)]',
        'boolean_expression[!(${A})]',
      ),
      negated: fc.boolean(),
      children: fc.array(tie('n'), { maxLength: 4 }),
    }),
  ),
})).n;

test('#if_tag blocks keep exactly the lines the model keeps, in both line-ending styles', HANG_GUARD, () => {
  fc.assert(
    fc.property(fc.array(node, { maxLength: 5 }), fc.constantFrom('\n', '\r\n'), (nodes, eol) => {
      const lines: string[] = [];
      const kept: string[] = [];
      let counter = 0;
      const walk = (list: Node[], active: boolean): void => {
        for (const n of list) {
          if (n.kind === 'text') {
            const line = `text ${counter++};`;
            lines.push(line);
            if (active) kept.push(line);
            continue;
          }
          const truthy = n.value.startsWith('boolean_expression')
            ? n.value.includes('!(')
              ? !modelOperand('${A}')
              : modelOperand('${A}')
            : modelOperand(n.value);
          lines.push(`  #if_tag ${n.negated ? '!' : ''}${n.value}`);
          walk(n.children, active && truthy !== n.negated);
          lines.push(`  #endif_tag ${n.value}`);
        }
      };
      walk(nodes, true);
      const out = renderTemplate(lines.join(eol), { env: MODEL_VALUES }).text;
      const outLines = out.split(eol);
      assert.deepEqual(
        outLines.filter((l) => l.startsWith('text ')),
        kept,
      );
      assert.ok(!out.replace(/\r\n/g, '').includes('\n') || eol === '\n', 'line endings are not mixed');
      assert.ok(!outLines.some((l) => l.includes('${')), 'every reference was substituted');
    }),
    { numRuns: RUNS },
  );
});

test('substitution: any env value is inserted verbatim and the line structure is kept', HANG_GUARD, () => {
  const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
  fc.assert(
    fc.property(name, fc.string({ maxLength: 30 }), (key, value) => {
      fc.pre(
        !/^\$\{[^\s${}]+\}$/.test(value) &&
          !['TOKEN_VALIDITY_MINUTES', 'TOKEN_SERVER_PORT', 'IOTEDGE_PARENTAPIPROXYNAME'].includes(key),
      );
      const out = renderTemplate(`a \${${key}} b\nnext`, { env: { [key]: value } });
      assert.equal(out.text, `a ${value} b\nnext`);
      assert.equal(out.variables.get(key), value);
    }),
    { numRuns: RUNS },
  );
});

test('pathological inputs finish (linear scanning, bounded recursion)', HANG_GUARD, () => {
  const inputs = [
    '${'.repeat(200_000),
    '${a'.repeat(100_000) + '}',
    'boolean_expression['.repeat(20_000),
    'boolean_expression[' + '&('.repeat(50_000),
    '#if_tag 1\n'.repeat(50_000),
    '#if_tag 1\n'.repeat(50_000) + '#endif_tag\n'.repeat(50_000),
    '#endif_tag\n'.repeat(10_000),
    '\n'.repeat(200_000),
    '${A}'.repeat(100_000),
  ];
  for (const input of inputs) {
    try {
      renderTemplate(input, { env: { A: 'a' } });
    } catch (e) {
      assertSaneError(e, input);
    }
  }
});
