import { parseBooleanExpressionAt, type ReferenceResolver } from './boolean-expression.js';
import { errorAt, variableNameProblem, type SourceText } from './source-position.js';
import { TemplateError } from './template-error.js';

const BOOLEAN_OPENER = 'boolean_expression[';

export interface LineRenderOptions {
  /**
   * When true, a `boolean_expression[` that does not parse is kept as text (reported through
   * `onLenient`) instead of throwing: used for `#endif_tag` arguments, which decide nothing.
   */
  readonly lenientBooleans: boolean;
  readonly onLenient?: (error: TemplateError) => void;
}

/**
 * Renders one line (no line break inside `source.text`) from `start`: `${NAME}` becomes its value,
 * `boolean_expression[…]` becomes `1` or `0`. Substituted values are never scanned again, so a
 * value cannot inject template syntax. A `${` with no `}` later on the line is plain text, as in
 * the Rust module. One pass, no backtracking: linear in the line length.
 */
export function renderLine(
  source: SourceText,
  start: number,
  resolve: ReferenceResolver,
  options: LineRenderOptions,
): string {
  const text = source.text;
  let out = '';
  let literalStart = start;
  let i = start;
  let nextRef = text.indexOf('${', i);
  let nextBool = text.indexOf(BOOLEAN_OPENER, i);
  let close = -1; // cached index of the next '}' at or after the last reference start
  for (;;) {
    if (nextRef !== -1 && nextRef < i) nextRef = text.indexOf('${', i);
    if (nextBool !== -1 && nextBool < i) nextBool = text.indexOf(BOOLEAN_OPENER, i);
    if (nextRef === -1 && nextBool === -1) break;

    if (nextBool !== -1 && (nextRef === -1 || nextBool < nextRef)) {
      const at = nextBool;
      try {
        const result = parseBooleanExpressionAt(source, at + BOOLEAN_OPENER.length, resolve, ']');
        out += text.slice(literalStart, at) + (result.value ? '1' : '0');
        i = literalStart = result.end;
      } catch (error) {
        if (!options.lenientBooleans || !(error instanceof TemplateError)) throw error;
        options.onLenient?.(error);
        i = at + BOOLEAN_OPENER.length; // keep the opener as text, still substitute what follows
      }
      continue;
    }

    const at = nextRef;
    if (close < at + 2) close = text.indexOf('}', at + 2);
    if (close === -1) {
      nextRef = -1; // no '}' anywhere after: no further reference on this line
      continue;
    }
    const name = text.slice(at + 2, close);
    const problem = variableNameProblem(name);
    if (problem !== undefined) throw errorAt(source, at, 'INVALID_VARIABLE', problem);
    out += text.slice(literalStart, at) + resolve(name);
    i = literalStart = close + 1;
  }
  return out + text.slice(literalStart);
}
