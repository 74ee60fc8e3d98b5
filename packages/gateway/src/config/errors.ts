// One error class for every problem with an edgemicro config: it names the key, the file and, when
// known, the line, so `edgemicro check` and `start` print one clear line.

export interface ConfigProblem {
  /** Dotted key path, e.g. `config.edgemicro.port`. */
  readonly key: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
}

export class EdgemicroConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'EdgemicroConfigError';
  }
}

function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.key}: ${p.message}`;
}
