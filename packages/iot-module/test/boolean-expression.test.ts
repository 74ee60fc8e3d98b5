import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateBooleanExpression,
  isTruthy,
  MAX_EXPRESSION_DEPTH,
  TemplateError,
  type TemplateErrorCode,
} from '../src/template/index.js';

const b = (value: boolean): '1' | '0' => (value ? '1' : '0');

test('operand truth (Rust replace_env_var_with_boolean vectors, one-char bug fixed)', () => {
  // Rust: "|(10.1.23.1)"→"|(1)", "|(myvariable,0,11,00)"→"|(1,0,1,1)", "|(myvariable,myvariable,myvariable)"→"|(1,1,1)".
  const table: Array<[operand: string, truthy: boolean]> = [
    ['10.1.23.1', true],
    ['myvariable', true],
    ['0', false],
    ['11', true],
    ['00', true],
    // DIFFERENCE: Rust silently dropped one-character operands other than "0".
    ['1', true],
    ['x', true],
    // Our rule: blanks around a value do not count; empty is false.
    [' 0 ', false],
    ['', false],
    ['\t', false],
    ['0.0.0.0:5000', true],
  ];
  for (const [operand, truthy] of table) assert.equal(isTruthy(operand), truthy, JSON.stringify(operand));
});

test('solve_boolean_expression vectors', () => {
  const table: Array<[expression: string, expected: '0' | '1']> = [
    ['|(0,0,0 )', '0'],
    ['|(1,0,0)', '1'],
    ['&(1,0,0)', '0'],
    ['&(1,1,1)', '1'],
    ['&(!(0),!(0),!(0))', '1'],
    // DIFFERENCE: Rust rejects letters at this stage; for us `asd` is a (true) operand.
    ['&(!(asd),!(0),!(0))', '0'],
  ];
  for (const [expression, expected] of table)
    assert.equal(b(evaluateBooleanExpression(expression)), expected, expression);
});

test('solve_boolean_expression error vectors stay errors', () => {
  const table: Array<[expression: string, column: number]> = [
    ['(!(0),!(0),!(0))', 1], // no operator
    ['&(!(0),!(0),!(0)', 17], // unclosed
    ['!(0,0)', 1], // ! takes one operand
  ];
  for (const [expression, column] of table) {
    assert.throws(
      () => evaluateBooleanExpression(expression),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.code === 'INVALID_BOOLEAN_EXPRESSION' &&
        e.line === 1 &&
        e.column === column,
      expression,
    );
  }
});

test('parse_boolean_expression vectors', () => {
  const table: Array<[expression: string, expected: '0' | '1']> = [
    ['|(myvariable,0,0)', '1'],
    ['&(myvariable,0,0)', '0'],
    ['&(myvariable,myvariable,myvariable)', '1'],
    ['|(!(myvariable),!(myvariable),!(myvariable))', '0'],
  ];
  for (const [expression, expected] of table)
    assert.equal(b(evaluateBooleanExpression(expression)), expected, expression);
});

test('vectors derived from the Rust code, where Rust is wrong', () => {
  const table: Array<[expression: string, ours: '0' | '1', rust: string]> = [
    ['|(1)', '1', '0 (operand 1 dropped)'],
    ['&(1,1)', '1', '1 by accident (empty list)'],
    ['|(x)', '1', '0 (operand x dropped)'],
    ['!(1)', '0', 'panic: index out of bounds'],
    ['&(!(abc),def)', '0', '0'],
    ['!(0)', '1', '1'],
  ];
  for (const [expression, ours, rust] of table) {
    assert.equal(b(evaluateBooleanExpression(expression)), ours, `${expression} (Rust: ${rust})`);
  }
});

test('README truth tables', () => {
  const set = (v: boolean): string => (v ? 'defined-value' : '0');
  for (const a of [false, true]) {
    for (const c of [false, true]) {
      const resolve = (name: string): string | undefined =>
        name === 'ENV_VAR1' ? set(a) : name === 'ENV_VAR2' ? set(c) : undefined;
      assert.equal(evaluateBooleanExpression('&(!(${ENV_VAR1}),${ENV_VAR2})', { resolve }), !a && c);
      assert.equal(evaluateBooleanExpression('|(!(${ENV_VAR1}),${ENV_VAR2})', { resolve }), !a || c);
    }
  }
});

test('references are atomic: a value with , ) or ! is one true operand', () => {
  const resolve = (name: string): string | undefined =>
    ({ CIPHERS: 'HIGH:!aNULL:!MD5', LIST: 'a,b)', EMPTY: '', ZERO: '0' })[name];
  assert.equal(evaluateBooleanExpression('&(${CIPHERS},${LIST})', { resolve }), true);
  assert.equal(evaluateBooleanExpression('|(${EMPTY},${ZERO})', { resolve }), false);
  assert.equal(evaluateBooleanExpression('${UNKNOWN}', { resolve }), false, 'unknown names are 0');
  assert.equal(
    evaluateBooleanExpression('prefix-${ZERO}', { resolve }),
    true,
    'literal text joins the value',
  );
});

test('syntax accepted: blanks anywhere between tokens, nesting, bare operand', () => {
  const table: Array<[expression: string, expected: boolean]> = [
    [' & ( 1 , ! ( 0 ) ) ', true],
    ['\t|(\t0\t)\t', false],
    ['&(|(0,1),!(&(1,0)))', true],
    ['1', true],
    ['0', false],
    ['a b', true],
  ];
  for (const [expression, expected] of table)
    assert.equal(evaluateBooleanExpression(expression), expected, expression);
});

test('syntax errors name what is wrong, with line and column', () => {
  const table: Array<[expression: string, code: TemplateErrorCode, column: number, fragment: string]> = [
    ['!()', 'INVALID_BOOLEAN_EXPRESSION', 3, "'!()' needs at least one operand"],
    ['&()', 'INVALID_BOOLEAN_EXPRESSION', 3, 'needs at least one operand'],
    ['', 'INVALID_BOOLEAN_EXPRESSION', 1, 'missing operand'],
    ['&(0,)', 'INVALID_BOOLEAN_EXPRESSION', 5, 'missing operand'],
    ['&(0,,1)', 'INVALID_BOOLEAN_EXPRESSION', 5, 'missing operand'],
    ['&0', 'INVALID_BOOLEAN_EXPRESSION', 2, "expected '(' after '&'"],
    ['&(0 1', 'INVALID_BOOLEAN_EXPRESSION', 6, "expected ',' or ')'"],
    ['&(0))', 'INVALID_BOOLEAN_EXPRESSION', 5, 'after the expression'],
    ['a(0)', 'INVALID_BOOLEAN_EXPRESSION', 2, 'after the expression'],
    ['&(${A)', 'INVALID_BOOLEAN_EXPRESSION', 3, "unterminated '${'"],
    ['&(${})', 'INVALID_VARIABLE', 3, 'empty variable name'],
    ['&(${A B})', 'INVALID_VARIABLE', 3, 'invalid variable name'],
    ['&(0,\n1)', 'INVALID_BOOLEAN_EXPRESSION', 1, 'end of the line'],
  ];
  for (const [expression, code, column, fragment] of table) {
    assert.throws(
      () => evaluateBooleanExpression(expression),
      (e: unknown) => {
        assert.ok(e instanceof TemplateError, expression);
        assert.equal(e.code, code, expression);
        assert.ok(e.line >= 1, expression);
        if (!expression.includes('\n')) assert.equal(e.column, column, `${expression}: ${e.message}`);
        assert.ok(e.message.includes(fragment), `${expression}: ${e.message}`);
        return true;
      },
    );
  }
});

test('nesting is bounded: deep input is a TemplateError, not a stack overflow', () => {
  const ok = '!('.repeat(MAX_EXPRESSION_DEPTH) + '0' + ')'.repeat(MAX_EXPRESSION_DEPTH);
  assert.equal(evaluateBooleanExpression(ok), MAX_EXPRESSION_DEPTH % 2 === 1);
  const deep = '!('.repeat(100_000) + '0' + ')'.repeat(100_000);
  assert.throws(
    () => evaluateBooleanExpression(deep),
    (e: unknown) => e instanceof TemplateError && e.code === 'NESTING_TOO_DEEP',
  );
});

test('line numbers follow the caller-provided base line', () => {
  assert.throws(
    () => evaluateBooleanExpression('&(', { line: 42 }),
    (e: unknown) => e instanceof TemplateError && e.line === 42 && e.message.startsWith('line 42, column 3:'),
  );
});
