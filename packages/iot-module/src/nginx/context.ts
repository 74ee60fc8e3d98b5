// Shared state of one compile run: the file name for errors, the options, and the notices about
// directives that were accepted but have no (or only an approximate) native equivalent.
import type { NginxArg, NginxDirective } from './ast.js';
import { NginxConfigError, type Positioned } from './errors.js';
import { parseSize, parseTime } from './units.js';

export class CompileContext {
  private readonly noticeLines = new Map<string, number[]>();

  constructor(readonly file: string) {}

  fail(reason: string, at: Positioned): never {
    throw new NginxConfigError(reason, this.file, at.line, at.column);
  }

  /** Record a notice; the same message for several lines is reported once with all line numbers. */
  notice(message: string, at: Positioned): void {
    const lines = this.noticeLines.get(message);
    if (lines) lines.push(at.line);
    else this.noticeLines.set(message, [at.line]);
  }

  notices(): string[] {
    return [...this.noticeLines].map(([message, lines]) => {
      const where = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.join(', ')}`;
      return `${this.file} (${where}): ${message}`;
    });
  }

  arg(d: NginxDirective, i: number): NginxArg {
    const a = d.args[i];
    if (!a) this.fail(`invalid number of arguments in "${d.name}" directive`, d);
    return a;
  }

  /** `on` | `off`, as ngx_conf_set_flag_slot checks it. */
  flag(d: NginxDirective): boolean {
    const a = this.arg(d, 0);
    const v = a.value.toLowerCase();
    if (v === 'on') return true;
    if (v === 'off') return false;
    this.fail(`invalid value "${a.value}" in "${d.name}" directive, it must be "on" or "off"`, a);
  }

  time(d: NginxDirective, i = 0): number {
    const a = this.arg(d, i);
    const ms = parseTime(a.value);
    if (ms === undefined) this.fail(`"${d.name}" directive invalid value`, a);
    return ms;
  }

  size(d: NginxDirective, i = 0): number {
    const a = this.arg(d, i);
    const n = parseSize(a.value);
    if (n === undefined) this.fail(`"${d.name}" directive invalid value`, a);
    return n;
  }

  integer(d: NginxDirective, i = 0): number {
    const a = this.arg(d, i);
    if (!/^\d+$/.test(a.value) || !Number.isSafeInteger(Number(a.value))) {
      this.fail(`"${d.name}" directive invalid value`, a);
    }
    return Number(a.value);
  }

  /** The name of a `$variable` argument without its sigil. */
  variableName(d: NginxDirective, a: NginxArg): string {
    const m = /^\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))$/.exec(a.value);
    if (!m) this.fail(`invalid variable name "${a.value}"`, a);
    return m[1] ?? m[2]!;
  }

  /** nginx regexes are PCRE; check that the pattern also compiles as a JavaScript regex. */
  regex(pattern: string, caseInsensitive: boolean, at: Positioned): string {
    // PCRE's `(?P<name>` is `(?<name>` in JavaScript.
    const js = pattern.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>');
    try {
      new RegExp(js, caseInsensitive ? 'i' : '');
    } catch (e) {
      this.fail(`invalid regular expression "${pattern}": ${(e as Error).message}`, at);
    }
    return js;
  }
}
