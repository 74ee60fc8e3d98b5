// The rewrite-phase directives (`if`, `rewrite`, `set`, `return`) of one server or location, kept
// in file order as native statements: nginx runs them in that order before (server) or after
// (location) the location is chosen.
import type { NginxArg, NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type { Condition, Statement } from './native-types.js';

const STATEMENT_NAMES = new Set(['if', 'rewrite', 'set', 'return']);
const REWRITE_FLAGS = new Set(['last', 'break', 'redirect', 'permanent']);

export function compileStatements(ctx: CompileContext, directives: NginxDirective[]): Statement[] {
  const out: Statement[] = [];
  for (const d of directives) {
    if (STATEMENT_NAMES.has(d.name)) out.push(compileStatement(ctx, d));
  }
  return out;
}

function compileStatement(ctx: CompileContext, d: NginxDirective): Statement {
  switch (d.name) {
    case 'set':
      return { type: 'set', variable: ctx.variableName(d, d.args[0]!), value: d.args[1]!.value };
    case 'return':
      return compileReturn(ctx, d);
    case 'rewrite': {
      const regex = ctx.regex(d.args[0]!.value, false, d.args[0]!);
      const statement: Statement = { type: 'rewrite', regex, replacement: d.args[1]!.value };
      const flag = d.args[2];
      if (flag) {
        if (!REWRITE_FLAGS.has(flag.value)) ctx.fail(`invalid parameter "${flag.value}"`, flag);
        statement.flag = flag.value as 'last' | 'break' | 'redirect' | 'permanent';
      }
      return statement;
    }
    default:
      return { type: 'if', condition: compileCondition(ctx, d), then: compileStatements(ctx, d.block ?? []) };
  }
}

/** `return code [text|URL]` or `return URL` (302), as ngx_http_rewrite_return. */
function compileReturn(
  ctx: CompileContext,
  d: NginxDirective,
): { type: 'return'; status: number; body?: string } {
  const first = d.args[0]!;
  if (/^\d+$/.test(first.value)) {
    const status = Number(first.value);
    if (status > 999) ctx.fail(`invalid return code "${first.value}"`, first);
    const body = d.args[1];
    return body ? { type: 'return', status, body: body.value } : { type: 'return', status };
  }
  if (d.args.length === 1 && /^(https?:\/\/|\$scheme)/.test(first.value)) {
    return { type: 'return', status: 302, body: first.value };
  }
  ctx.fail(`invalid return code "${first.value}"`, first);
}

/** nginx's `if (…)` condition: the parentheses are glued to the first and last words or stand alone. */
function compileCondition(ctx: CompileContext, d: NginxDirective): Condition {
  const args: NginxArg[] = d.args.map((a) => ({ ...a }));
  const first = args[0]!;
  if (first.quote || !first.value.startsWith('(')) ctx.fail('invalid condition', first);
  if (first.value === '(') args.shift();
  else first.value = first.value.slice(1);
  const last = args[args.length - 1];
  if (!last || last.quote || !last.value.endsWith(')')) ctx.fail('invalid condition', last ?? d);
  if (last.value === ')') args.pop();
  else last.value = last.value.slice(0, -1);

  const subject = args[0];
  if (!subject) ctx.fail('invalid condition', d);
  if (args.length === 2 && /^!?-[fdex]$/.test(subject.value)) {
    ctx.fail(`file tests in "if" are not supported: "${subject.value}"`, subject);
  }
  if (!/^\$./.test(subject.value)) ctx.fail(`invalid condition "${subject.value}"`, subject);
  if (args.length === 1) return { type: 'truthy', value: subject.value };
  if (args.length !== 3) ctx.fail('invalid condition', d);
  const op = args[1]!;
  const operand = args[2]!;
  switch (op.value) {
    case '=':
    case '!=': {
      const c: Condition = { type: 'equals', value: subject.value, to: operand.value };
      if (op.value === '!=') c.negate = true;
      return c;
    }
    case '~':
    case '~*':
    case '!~':
    case '!~*': {
      const caseInsensitive = op.value.endsWith('*');
      const c: Condition = {
        type: 'matches',
        value: subject.value,
        regex: ctx.regex(operand.value, caseInsensitive, operand),
      };
      if (caseInsensitive) c.caseInsensitive = true;
      if (op.value.startsWith('!')) c.negate = true;
      return c;
    }
    default:
      ctx.fail(`unexpected "${op.value}" in condition`, op);
  }
}
