// Parse nginx configuration text into a tree, checking each directive against the supported set the
// way nginx does while reading a file: unknown names, wrong context, block shape, argument count.
import type { NginxConfigAst, NginxContext, NginxDirective } from './ast.js';
import { DIRECTIVES, IF_DIRECTIVES, UNSUPPORTED_DIRECTIVES } from './directives.js';
import { NginxConfigError } from './errors.js';
import { Tokenizer, type Statement } from './tokenizer.js';

export interface ParseOptions {
  /** Name used in error messages and recorded on every node. Default `nginx.conf`. */
  file?: string;
}

/** Deeper than any valid nesting (main → http → server → location → if); guards hostile input. */
const MAX_DEPTH = 16;

export function parse(text: string, options: ParseOptions = {}): NginxConfigAst {
  const file = options.file ?? 'nginx.conf';
  const parser = new Parser(new Tokenizer(text, file), file);
  return { file, directives: parser.block('main', 0, false) };
}

class Parser {
  constructor(
    private readonly tokens: Tokenizer,
    private readonly file: string,
  ) {}

  private fail(reason: string, at: { line: number; column: number }): never {
    throw new NginxConfigError(reason, this.file, at.line, at.column);
  }

  /** Read directives until the closing `}` (inBlock) or the end of the text. */
  block(context: NginxContext, depth: number, inBlock: boolean): NginxDirective[] {
    const out: NginxDirective[] = [];
    for (;;) {
      const st = this.tokens.next();
      if (st.kind === 'eof') {
        if (inBlock) this.fail('unexpected end of file, expecting "}"', st);
        return out;
      }
      if (st.kind === 'close') {
        if (!inBlock) this.fail('unexpected "}"', st);
        return out;
      }
      out.push(this.directive(st, context, depth));
    }
  }

  private directive(st: Statement, context: NginxContext, depth: number): NginxDirective {
    const [first, ...args] = st.words;
    // The tokenizer never returns `end`/`open` without a word.
    const head = first!;
    const node: NginxDirective = {
      name: head.value,
      args,
      file: this.file,
      line: head.line,
      column: head.column,
    };
    if (head.quote) node.nameQuote = head.quote;

    if (context === 'map') {
      if (st.kind === 'open') this.fail('unexpected "{"', st);
      this.checkMapEntry(node);
      return node;
    }

    const inner = this.check(node, st, context);
    if (st.kind === 'open') {
      if (depth + 1 > MAX_DEPTH) this.fail('too deeply nested blocks', node);
      node.block = this.block(inner!, depth + 1, true);
    }
    return node;
  }

  private checkMapEntry(node: NginxDirective): void {
    if (node.args.length === 0 && (node.name === 'hostnames' || node.name === 'volatile')) return;
    if (node.name === 'include' && !node.nameQuote) {
      this.fail(UNSUPPORTED_DIRECTIVES.get('include')!, node);
    }
    if (node.args.length !== 1) this.fail('invalid number of the map parameters', node);
  }

  /** nginx's checks in order: known name, allowed context, block shape, argument count. */
  private check(node: NginxDirective, st: Statement, context: NginxContext): NginxContext | undefined {
    const name = node.name;
    const spec = DIRECTIVES.get(name);
    if (!spec) {
      const unsupported = UNSUPPORTED_DIRECTIVES.get(name);
      this.fail(unsupported ?? `unknown directive "${name}"`, node);
    }
    if (context === 'if' && !IF_DIRECTIVES.has(name)) {
      if (spec.contexts.includes('location')) {
        this.fail(`"${name}" directive inside "if" is not supported (only rewrite, set and return)`, node);
      }
      this.fail(`"${name}" directive is not allowed here`, node);
    }
    if (context === 'location' && name === 'location') {
      this.fail('nested "location" blocks are not supported', node);
    }
    if (!spec.contexts.includes(context)) this.fail(`"${name}" directive is not allowed here`, node);
    if (!spec.block && st.kind !== 'end') this.fail(`directive "${name}" is not terminated by ";"`, node);
    if (spec.block && st.kind !== 'open') this.fail(`directive "${name}" has no opening "{"`, node);
    if (node.args.length < spec.minArgs || node.args.length > spec.maxArgs) {
      this.fail(`invalid number of arguments in "${name}" directive`, node);
    }
    return spec.inner;
  }
}
