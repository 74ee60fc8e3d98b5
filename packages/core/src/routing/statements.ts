// The rewrite phase (nginx ngx_http_rewrite_module): `if`, `rewrite`, `set`, `return`, compiled to
// closures over compiled templates and regexes.
import type { Condition, Statement } from '../config/types.js';
import { compileRegex, compileTemplate, type VariableScope, type VariableSource } from './variables.js';

/** A request whose `$uri` and arguments the rewrite phase may change. */
export interface RewritableSource extends VariableSource {
  uri: string;
  args: string;
  hasQuery: boolean;
  /** Set once a rewrite changed `$uri`: the upstream then gets the new URI, not the raw target. */
  rewritten: boolean;
}

export type Outcome =
  | undefined
  | { kind: 'last' }
  | { kind: 'break' }
  | { kind: 'return'; status: number; body: string | undefined };

export type CompiledStatements = (src: RewritableSource) => Outcome;

type Step = (src: RewritableSource) => Outcome;

export function compileStatements(
  statements: Statement[],
  scope: VariableScope,
  path: string,
): CompiledStatements {
  const steps = statements.map((s, i) => compileStatement(s, scope, `${path}[${i}]`));
  return (src) => {
    for (const step of steps) {
      const outcome = step(src);
      if (outcome) return outcome;
    }
    return undefined;
  };
}

function compileStatement(s: Statement, scope: VariableScope, path: string): Step {
  switch (s.type) {
    case 'set': {
      const value = compileTemplate(s.value, scope);
      const name = s.variable.replace(/^\$/, '');
      return (src) => {
        (src.vars ??= new Map()).set(name, value.evaluate(src));
        return undefined;
      };
    }
    case 'return': {
      const body = s.body === undefined ? undefined : compileTemplate(s.body, scope);
      const status = s.status;
      return (src) => ({ kind: 'return', status, body: body?.evaluate(src) });
    }
    case 'if': {
      const test = compileCondition(s.condition, scope);
      const body = compileStatements(s.then, scope, `${path}.then`);
      return (src) => (test(src) ? body(src) : undefined);
    }
    case 'rewrite':
      return compileRewrite(s, scope, path);
  }
}

function compileCondition(c: Condition, scope: VariableScope): (src: RewritableSource) => boolean {
  const value = compileTemplate(c.value, scope);
  switch (c.type) {
    case 'truthy':
      return (src) => {
        const v = value.evaluate(src);
        return v !== '' && v !== '0';
      };
    case 'equals': {
      const to = compileTemplate(c.to, scope);
      const negate = c.negate === true;
      return (src) => (value.evaluate(src) === to.evaluate(src)) !== negate;
    }
    case 'matches': {
      const re = compileRegex(c.regex, c.caseInsensitive);
      const negate = c.negate === true;
      return (src) => {
        const m = re.exec(value.evaluate(src));
        if (m && !negate) src.captures = m;
        return (m !== null) !== negate;
      };
    }
  }
}

function compileRewrite(
  s: Extract<Statement, { type: 'rewrite' }>,
  scope: VariableScope,
  path: string,
): Step {
  const re = compileRegex(s.regex);
  let replacement = s.replacement;
  // A trailing '?' means: do not append the original arguments.
  const dropArgs = replacement.endsWith('?');
  if (dropArgs) replacement = replacement.slice(0, -1);
  const tpl = compileTemplate(replacement, scope);
  const absolute = /^(https?:\/\/|\$scheme)/.test(replacement);
  const flag = s.flag;
  const redirectStatus = flag === 'permanent' ? 301 : flag === 'redirect' || absolute ? 302 : 0;
  void path;
  return (src) => {
    const m = re.exec(src.uri);
    if (!m) return undefined;
    src.captures = m;
    const result = tpl.evaluate(src);
    if (redirectStatus) {
      const location =
        dropArgs || !src.hasQuery ? result : `${result}${result.includes('?') ? '&' : '?'}${src.args}`;
      return { kind: 'return', status: redirectStatus, body: location };
    }
    const q = result.indexOf('?');
    if (q === -1) {
      src.uri = result;
      if (dropArgs) {
        src.args = '';
        src.hasQuery = false;
      }
    } else {
      src.uri = result.slice(0, q);
      const newArgs = result.slice(q + 1);
      src.args = dropArgs || !src.args ? newArgs : `${newArgs}&${src.args}`;
      src.hasQuery = true;
    }
    src.rewritten = true;
    if (flag === 'last') return { kind: 'last' };
    if (flag === 'break') return { kind: 'break' };
    return undefined;
  };
}
