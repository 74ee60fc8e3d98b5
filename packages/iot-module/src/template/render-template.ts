import { renderLine } from './line-renderer.js';
import { quote, type SourceText } from './source-position.js';
import { TemplateError, type TemplateNotice } from './template-error.js';
import { isTruthy } from './truthiness.js';
import { VariableResolver, type VariableOptions } from './variables.js';

export type RenderOptions = VariableOptions;

export interface RenderResult {
  /** The rendered configuration; line endings (LF or CRLF) are kept as they were. */
  readonly text: string;
  /** Every `${NAME}` the template references (kept or removed blocks alike) and the value it got. */
  readonly variables: ReadonlyMap<string, string>;
  /** Non-fatal remarks, in template order, without duplicates. */
  readonly notices: readonly TemplateNotice[];
}

/** One open `#if_tag` block. */
interface OpenBlock {
  readonly line: number;
  /** The raw argument without a leading `!`, to compare with the closing `#endif_tag`. */
  readonly name: string;
  /** Whether the block's content is emitted (every enclosing block kept and this condition true). */
  readonly active: boolean;
  /** True for the outermost removed block: it leaves its indentation and its `#endif_tag` line end. */
  readonly removedHere: boolean;
}

const DIRECTIVE = /^[ \t]*#(if_tag|endif_tag)(?=[ \t]|$)/;

/**
 * Renders an IoT Edge API proxy configuration template:
 * 1. `${NAME}` → reserved value, environment, default, else `0` (one level of indirection);
 * 2. `boolean_expression[…]` → `1` / `0`;
 * 3. `#if_tag X` … `#endif_tag X` blocks removed when X is false (`#if_tag !X`: when X is true).
 * Blocks nest; kept blocks keep their tag lines (they are nginx comments). A removed block leaves
 * the indentation before `#if_tag` and what follows the `#endif_tag` argument (its line end), which
 * is exactly what the Rust module produces. Throws TemplateError on malformed templates.
 */
export function renderTemplate(template: string, options: RenderOptions): RenderResult {
  return new TemplateRenderer(new VariableResolver(options)).render(template);
}

class TemplateRenderer {
  private readonly variables = new Map<string, string>();
  private readonly notices: TemplateNotice[] = [];
  private readonly noticeKeys = new Set<string>();
  private readonly reportedLegacy = new Set<string>();
  private readonly stack: OpenBlock[] = [];
  /** Current line and whether it is emitted: notices are only worth giving for live text. */
  private line = 1;
  private live = true;
  /** Inside an `#if_tag`/`#endif_tag` line, where a line break in a value would end the comment. */
  private inDirective = false;
  private readonly resolveReference = (name: string): string => this.reference(name);

  constructor(private readonly resolver: VariableResolver) {}

  render(template: string): RenderResult {
    if (this.resolver.legacyList !== undefined) {
      const from = this.resolver.legacyListSource ?? 'the variable list option';
      this.notice(
        undefined,
        `legacy mode: ${from} is set, so only the variables it lists (plus reserved and defaulted ones) are substituted; other \${…} references stay as written`,
      );
    }
    const out: string[] = [];
    let pos = 0;
    for (;;) {
      const newline = template.indexOf('\n', pos);
      const lineEnd = newline === -1 ? template.length : newline;
      const contentEnd = lineEnd > pos && template.charCodeAt(lineEnd - 1) === 0x0d ? lineEnd - 1 : lineEnd;
      const content = template.slice(pos, contentEnd);
      const eol = newline === -1 ? '' : template.slice(contentEnd, newline + 1);
      this.renderOne(content, eol, out);
      if (newline === -1) break;
      pos = newline + 1;
      this.line++;
    }
    const unclosed = this.stack[this.stack.length - 1];
    if (unclosed !== undefined) {
      const more = this.stack.length > 1 ? ` (${this.stack.length} blocks are left open)` : '';
      throw new TemplateError(
        'UNCLOSED_IF_TAG',
        `#if_tag ${quote(unclosed.name)} is never closed by an #endif_tag${more}`,
        unclosed.line,
      );
    }
    return { text: out.join(''), variables: this.variables, notices: this.notices };
  }

  private renderOne(content: string, eol: string, out: string[]): void {
    const parentActive = this.stack.length === 0 || this.stack[this.stack.length - 1]!.active;
    const directive = DIRECTIVE.exec(content);
    if (directive === null) {
      this.live = parentActive;
      const rendered = renderLine({ text: content, line: this.line }, 0, this.resolveReference, {
        lenientBooleans: false,
      });
      if (parentActive) out.push(rendered, eol);
      return;
    }

    // Split "<indent>#if_tag <argument><trailing blanks>" into its parts.
    let argStart = directive[0].length;
    while (argStart < content.length && isBlank(content.charCodeAt(argStart))) argStart++;
    let argEnd = content.length;
    while (argEnd > argStart && isBlank(content.charCodeAt(argEnd - 1))) argEnd--;
    const source: SourceText = { text: content.slice(0, argEnd), line: this.line };
    const head = content.slice(0, argStart);
    const tail = content.slice(argEnd) + eol;
    const indent = content.slice(0, content.indexOf('#'));
    const raw = content.slice(argStart, argEnd);

    this.live = parentActive;
    this.inDirective = true;
    try {
      if (directive[1] === 'if_tag')
        this.openBlock(source, argStart, raw, { head, tail, indent, parentActive }, out);
      else this.closeBlock(source, argStart, raw, { head, tail }, out);
    } finally {
      this.inDirective = false;
    }
  }

  private openBlock(
    source: SourceText,
    argStart: number,
    raw: string,
    parts: { head: string; tail: string; indent: string; parentActive: boolean },
    out: string[],
  ): void {
    const negated = raw.startsWith('!');
    const name = (negated ? raw.slice(1) : raw).trim();
    if (name === '') {
      throw new TemplateError(
        'MISSING_CONDITION',
        negated ? "#if_tag ! needs a condition after '!'" : '#if_tag needs a condition',
        this.line,
        argStart + 1,
      );
    }
    const condition = renderLine(source, argStart + (negated ? 1 : 0), this.resolveReference, {
      lenientBooleans: false,
    });
    const truthy = isTruthy(condition);
    const keep = negated ? !truthy : truthy;
    if (parts.parentActive && !negated && truthy && /^[ \t]*0/.test(condition)) {
      this.notice(
        this.line,
        `#if_tag ${quote(condition.trim())} is true, so the block is kept; the Rust module removed blocks whose value merely starts with 0`,
      );
    }
    this.stack.push({
      line: this.line,
      name,
      active: parts.parentActive && keep,
      removedHere: parts.parentActive && !keep,
    });
    if (!parts.parentActive) return;
    if (keep) out.push(parts.head, negated ? '!' : '', condition, parts.tail);
    else out.push(parts.indent);
  }

  private closeBlock(
    source: SourceText,
    argStart: number,
    raw: string,
    parts: { head: string; tail: string },
    out: string[],
  ): void {
    const block = this.stack.pop();
    if (block === undefined) {
      throw new TemplateError('UNEXPECTED_ENDIF_TAG', '#endif_tag without a matching #if_tag', this.line);
    }
    const parentActive = this.stack.length === 0 || this.stack[this.stack.length - 1]!.active;
    // The argument of #endif_tag decides nothing (blocks pair by nesting), so a broken
    // boolean_expression there is kept as text rather than failing a template the README shows.
    const argument = renderLine(source, argStart, this.resolveReference, {
      lenientBooleans: true,
      onLenient: (error) => this.notice(this.line, `#endif_tag argument kept as text: ${error.reason}`),
    });
    const name = (raw.startsWith('!') ? raw.slice(1) : raw).trim();
    if (parentActive && name !== '' && name !== block.name) {
      this.notice(
        this.line,
        `#endif_tag ${quote(name)} closes #if_tag ${quote(block.name)} of line ${block.line}: blocks pair by nesting, not by name`,
      );
    }
    if (block.active) out.push(parts.head, argument, parts.tail);
    else if (block.removedHere) out.push(parts.tail);
  }

  private reference(name: string): string {
    const resolved = this.resolver.resolve(name);
    if (resolved === undefined) {
      if (this.live && !this.reportedLegacy.has(name)) {
        this.reportedLegacy.add(name);
        this.notice(this.line, `\${${name}} left as written: not in the legacy variable list`);
      }
      return `\${${name}}`;
    }
    this.variables.set(name, resolved.value);
    if (this.live && resolved.note !== undefined) this.notice(this.line, resolved.note);
    let value = resolved.value;
    if (this.inDirective && /[\r\n]/.test(value)) {
      // A line break would end the nginx comment and turn the rest of the value into config.
      value = value.replace(/[\r\n]+/g, ' ');
      if (this.live)
        this.notice(this.line, `line breaks in the value of ${name} replaced by spaces in a tag line`);
    }
    return value;
  }

  private notice(line: number | undefined, message: string): void {
    if (this.noticeKeys.has(message)) return;
    this.noticeKeys.add(message);
    this.notices.push({ line, message });
  }
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
