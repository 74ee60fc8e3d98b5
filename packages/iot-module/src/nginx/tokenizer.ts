// nginx's configuration tokenizer (the state machine of ngx_conf_read_token), re-expressed: it reads
// one statement at a time — the words up to a `;`, `{` or `}` — with nginx's quirks kept, because
// users' configs depend on them: `#` starts a comment only at the start of a word, `}` inside a
// word is part of it, `${` keeps a brace inside a variable name, a quoted word may be followed
// directly by `)` (for `if ($a = "b")`), and escapes are decoded in every word.
import type { NginxArg } from './ast.js';
import { NginxConfigError } from './errors.js';

export interface Statement {
  /** `end` = `;`, `open` = `{`, `close` = `}`, `eof` = end of the text. */
  kind: 'end' | 'open' | 'close' | 'eof';
  words: NginxArg[];
  /** Position of the terminating character (or of the end of the text). */
  line: number;
  column: number;
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** nginx decodes `\"`, `\'`, `\\`, `\t`, `\r`, `\n` in every word; other backslashes stay. */
function unescapeWord(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && i + 1 < raw.length) {
      const next = raw[i + 1]!;
      if (next === '"' || next === "'" || next === '\\') {
        out += next;
        i++;
        continue;
      }
      if (next === 't' || next === 'r' || next === 'n') {
        out += next === 't' ? '\t' : next === 'r' ? '\r' : '\n';
        i++;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export class Tokenizer {
  private pos = 0;
  private line = 1;
  private column = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private fail(reason: string, line: number, column: number): never {
    throw new NginxConfigError(reason, this.file, line, column);
  }

  /** Read the next statement. Every iteration consumes one character, so this always terminates. */
  next(): Statement {
    const text = this.text;
    const words: NginxArg[] = [];
    let lastSpace = true;
    let needSpace = false;
    let sQuoted = false;
    let dQuoted = false;
    let escaped = false;
    let variable = false;
    let comment = false;
    let start = 0;
    let startLine = 0;
    let startColumn = 0;

    for (;;) {
      if (this.pos >= text.length) {
        if (words.length > 0 || !lastSpace) {
          this.fail('unexpected end of file, expecting ";" or "}"', this.line, this.column);
        }
        return { kind: 'eof', words, line: this.line, column: this.column };
      }
      const ch = text[this.pos]!;
      const at = this.pos;
      const chLine = this.line;
      const chColumn = this.column;
      this.pos++;
      if (ch === '\n') {
        this.line++;
        this.column = 1;
        comment = false;
        // A newline also ends a comment; fall through so it acts as whitespace.
      } else {
        this.column++;
        if (comment) continue;
      }

      if (escaped) {
        escaped = false;
        continue;
      }

      if (needSpace) {
        if (isSpace(ch)) {
          lastSpace = true;
          needSpace = false;
          continue;
        }
        if (ch === ';') return { kind: 'end', words, line: chLine, column: chColumn };
        if (ch === '{') return { kind: 'open', words, line: chLine, column: chColumn };
        if (ch === ')') {
          lastSpace = true;
          needSpace = false;
        } else {
          this.fail(`unexpected "${ch}"`, chLine, chColumn);
        }
      }

      if (lastSpace) {
        start = at;
        startLine = chLine;
        startColumn = chColumn;
        if (isSpace(ch)) continue;
        switch (ch) {
          case ';':
          case '{':
            if (words.length === 0) this.fail(`unexpected "${ch}"`, chLine, chColumn);
            return { kind: ch === ';' ? 'end' : 'open', words, line: chLine, column: chColumn };
          case '}':
            if (words.length !== 0) this.fail('unexpected "}"', chLine, chColumn);
            return { kind: 'close', words, line: chLine, column: chColumn };
          case '#':
            comment = true;
            continue;
          case '\\':
            escaped = true;
            lastSpace = false;
            continue;
          case '"':
            start++;
            dQuoted = true;
            lastSpace = false;
            continue;
          case "'":
            start++;
            sQuoted = true;
            lastSpace = false;
            continue;
          case '$':
            variable = true;
            lastSpace = false;
            continue;
          default:
            lastSpace = false;
            continue;
        }
      }

      // Inside a word.
      if (ch === '{' && variable) continue; // `${name}` keeps its brace
      variable = false;
      if (ch === '\\') {
        escaped = true;
        continue;
      }
      if (ch === '$') {
        variable = true;
        continue;
      }
      let found = false;
      let quote: '"' | "'" | undefined;
      if (dQuoted) {
        if (ch === '"') {
          dQuoted = false;
          needSpace = true;
          found = true;
          quote = '"';
        }
      } else if (sQuoted) {
        if (ch === "'") {
          sQuoted = false;
          needSpace = true;
          found = true;
          quote = "'";
        }
      } else if (isSpace(ch) || ch === ';' || ch === '{') {
        lastSpace = true;
        found = true;
      }
      if (!found) continue;

      const word: NginxArg = {
        value: unescapeWord(text.slice(start, at)),
        line: startLine,
        column: startColumn,
      };
      if (quote) word.quote = quote;
      words.push(word);
      if (ch === ';') return { kind: 'end', words, line: chLine, column: chColumn };
      if (ch === '{') return { kind: 'open', words, line: chLine, column: chColumn };
    }
  }
}
