import { errorAt, quote, variableNameProblem, type SourceText } from './source-position.js';
import { isTruthy } from './truthiness.js';

/**
 * `boolean_expression[…]` — a prefix-notation boolean language:
 *
 *   expression := operand | ('&' | '|') '(' expression (',' expression)* ')' | '!' '(' expression ')'
 *   operand    := text and `${NAME}` references, up to one of `( ) , & | ! [ ]`
 *
 * Spaces and tabs between tokens are ignored. An operand is false iff it is empty or `0` (see
 * `isTruthy`). `${NAME}` inside an operand is resolved as a unit, so a value containing `,`, `)`
 * or `!` (a cipher list, say) is just a true value, never part of the expression.
 */

/** Turns the name inside `${…}` into the text it stands for. */
export type ReferenceResolver = (name: string) => string;

/** Nesting limit: far above any real template, low enough that recursion cannot exhaust the stack. */
export const MAX_EXPRESSION_DEPTH = 64;

export interface BooleanParseResult {
  readonly value: boolean;
  /** Index just after the expression (after the closing `]` when one was required). */
  readonly end: number;
}

/**
 * Parses and evaluates the expression starting at `start`. With `closing` = `]` the expression
 * must be followed by `]` (the template form); with undefined it must run to the end of the text.
 * Throws TemplateError (code INVALID_BOOLEAN_EXPRESSION or NESTING_TOO_DEEP) on any mistake.
 */
export function parseBooleanExpressionAt(
  source: SourceText,
  start: number,
  resolve: ReferenceResolver,
  closing: ']' | undefined,
): BooleanParseResult {
  const parser = new Parser(source, resolve);
  parser.pos = start;
  const value = parser.expression(0);
  parser.skipBlanks();
  if (closing === undefined) {
    if (parser.pos < source.text.length)
      parser.fail(`unexpected ${describe(parser.peek())} after the expression`);
  } else if (parser.peek() !== closing) {
    parser.fail(`expected ']' to close boolean_expression[ but found ${describe(parser.peek())}`);
  } else {
    parser.pos++;
  }
  return { value, end: parser.pos };
}

export interface EvaluateOptions {
  /** Values for `${NAME}` operands; a name it does not know (undefined) evaluates as `0`. */
  readonly resolve?: (name: string) => string | undefined;
  /** Line number of the first character, for error positions (default 1). */
  readonly line?: number;
}

/** Evaluates a bare expression such as `&(!(0),${A})` (without the `boolean_expression[…]` wrapper). */
export function evaluateBooleanExpression(expression: string, options: EvaluateOptions = {}): boolean {
  const lookup = options.resolve;
  const resolve: ReferenceResolver = lookup === undefined ? () => '0' : (name) => lookup(name) ?? '0';
  return parseBooleanExpressionAt({ text: expression, line: options.line ?? 1 }, 0, resolve, undefined).value;
}

class Parser {
  pos = 0;

  constructor(
    private readonly source: SourceText,
    private readonly resolve: ReferenceResolver,
  ) {}

  expression(depth: number): boolean {
    if (depth > MAX_EXPRESSION_DEPTH) {
      throw errorAt(
        this.source,
        this.pos,
        'NESTING_TOO_DEEP',
        `boolean expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`,
      );
    }
    this.skipBlanks();
    const c = this.peek();
    if (c === '&' || c === '|' || c === '!') return this.operation(c, depth);
    if (c === '(') this.fail("'(' must follow an operator: &( … ), |( … ) or !( … )");
    if (c === undefined || c === ')' || c === ',' || c === ']' || c === '[' || c === '\n' || c === '\r') {
      this.fail(`missing operand before ${describe(c)}`);
    }
    return isTruthy(this.operand());
  }

  private operation(operator: '&' | '|' | '!', depth: number): boolean {
    const at = this.pos;
    this.pos++;
    this.skipBlanks();
    if (this.peek() !== '(') this.fail(`expected '(' after '${operator}' but found ${describe(this.peek())}`);
    this.pos++;
    this.skipBlanks();
    if (this.peek() === ')') this.fail(`'${operator}()' needs at least one operand`);
    const values: boolean[] = [];
    for (;;) {
      values.push(this.expression(depth + 1));
      this.skipBlanks();
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        break;
      }
      this.fail(`expected ',' or ')' in '${operator}(' but found ${describe(c)}`);
    }
    if (operator === '!') {
      if (values.length !== 1) {
        throw errorAt(
          this.source,
          at,
          'INVALID_BOOLEAN_EXPRESSION',
          `'!' takes exactly one operand, got ${values.length}`,
        );
      }
      return !values[0];
    }
    return operator === '&' ? values.every(Boolean) : values.some(Boolean);
  }

  /** Literal text and `${NAME}` references up to the next structural character. */
  private operand(): string {
    const text = this.source.text;
    let value = '';
    let literalStart = this.pos;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === '(' || c === ')' || c === ',' || c === '&' || c === '|' || c === '!') break;
      if (c === '[' || c === ']' || c === '\n' || c === '\r') break;
      if (c === '$' && text[this.pos + 1] === '{') {
        value += text.slice(literalStart, this.pos);
        value += this.reference();
        literalStart = this.pos;
        continue;
      }
      this.pos++;
    }
    return value + text.slice(literalStart, this.pos);
  }

  private reference(): string {
    const text = this.source.text;
    const nameStart = this.pos + 2;
    let close = nameStart;
    while (close < text.length && text[close] !== '}' && text[close] !== '\n') close++;
    if (text[close] !== '}') this.fail("unterminated '${' in boolean expression");
    const name = text.slice(nameStart, close);
    const problem = variableNameProblem(name);
    if (problem !== undefined) throw errorAt(this.source, this.pos, 'INVALID_VARIABLE', problem);
    this.pos = close + 1;
    return this.resolve(name);
  }

  skipBlanks(): void {
    const text = this.source.text;
    while (this.pos < text.length && (text[this.pos] === ' ' || text[this.pos] === '\t')) this.pos++;
  }

  peek(): string | undefined {
    return this.source.text[this.pos];
  }

  fail(reason: string): never {
    throw errorAt(this.source, this.pos, 'INVALID_BOOLEAN_EXPRESSION', reason);
  }
}

function describe(c: string | undefined): string {
  if (c === undefined) return 'the end of the text';
  if (c === '\n' || c === '\r') return 'the end of the line';
  return quote(c);
}
