/** What went wrong, stable across releases so callers (CLI `check`, twin reporting) can switch on it. */
export type TemplateErrorCode =
  | 'UNCLOSED_IF_TAG'
  | 'UNEXPECTED_ENDIF_TAG'
  | 'MISSING_CONDITION'
  | 'INVALID_VARIABLE'
  | 'INVALID_BOOLEAN_EXPRESSION'
  | 'NESTING_TOO_DEEP';

/**
 * The only error the template engine throws. `line` and `column` are 1-based and point into the
 * template text that was rendered, so an operator can find the mistake in the twin or file.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code: TemplateErrorCode;
  readonly line: number;
  readonly column: number | undefined;
  /** The message without the position prefix. */
  readonly reason: string;

  constructor(code: TemplateErrorCode, reason: string, line: number, column?: number) {
    super(column === undefined ? `line ${line}: ${reason}` : `line ${line}, column ${column}: ${reason}`);
    this.code = code;
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** A non-fatal remark about the template (legacy behaviour used, a likely mistake, a difference from the Rust module). */
export interface TemplateNotice {
  /** 1-based line of the template the notice is about; undefined when it concerns the whole template. */
  readonly line: number | undefined;
  readonly message: string;
}
