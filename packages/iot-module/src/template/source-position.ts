import { TemplateError, type TemplateErrorCode } from './template-error.js';

/**
 * A piece of template text being scanned: `text` starts at line `line`. Positions inside it are
 * turned into 1-based line/column only when an error is raised, so scanning stays cheap.
 */
export interface SourceText {
  readonly text: string;
  readonly line: number;
}

export function errorAt(
  source: SourceText,
  index: number,
  code: TemplateErrorCode,
  reason: string,
): TemplateError {
  let line = source.line;
  let lineStart = 0;
  const end = Math.min(index, source.text.length);
  for (let i = 0; i < end; i++) {
    if (source.text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return new TemplateError(code, reason, line, end - lineStart + 1);
}

/** Why `name` cannot be a `${NAME}` variable name, or undefined when it can. */
export function variableNameProblem(name: string): string | undefined {
  if (name === '') return 'empty variable name in ${}';
  if (/[\s${}]/.test(name)) {
    return `invalid variable name \${${name}}: names cannot contain spaces, '$', '{' or '}'`;
  }
  return undefined;
}

/** Shows a piece of user text in a message without flooding the log. */
export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
