// The syntax tree of an nginx configuration file: directives with their arguments and blocks,
// each with the position it came from so later stages can name file, line and column.

/** One argument of a directive, unescaped as nginx does (`\"` → `"`, `\n` → newline, …). */
export interface NginxArg {
  value: string;
  /** The quote character when the argument was written quoted; `""` is an empty argument. */
  quote?: '"' | "'";
  line: number;
  column: number;
}

export interface NginxDirective {
  /** The first word, unescaped (map entries keep their key here, e.g. `""` → empty string). */
  name: string;
  nameQuote?: '"' | "'";
  args: NginxArg[];
  /** Present for block directives (`http { … }`), even when the block is empty. */
  block?: NginxDirective[];
  file: string;
  line: number;
  column: number;
}

export interface NginxConfigAst {
  file: string;
  directives: NginxDirective[];
}

/** Where a directive is written, as the parser tracks it (nginx's `cf->cmd_type`). */
export type NginxContext = 'main' | 'events' | 'http' | 'server' | 'location' | 'if' | 'map';
