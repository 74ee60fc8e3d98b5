// Command-line options the way edgemicro's commander setup spells them: short and long forms, a
// value after each; an unknown option or a missing value is an error naming it.

export interface OptionSpec {
  readonly short?: string;
  readonly long: string;
  /** Takes no value. */
  readonly flag?: boolean;
}

export class UsageError extends Error {}

export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
): { values: Record<string, string | true>; positional: string[] } {
  const values: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq !== -1 ? a.slice(0, eq) : a;
    const spec = specs.find((s) => (s.short && `-${s.short}` === name) || `--${s.long}` === name);
    if (!spec) throw new UsageError(`unknown option ${name}`);
    if (spec.flag) {
      values[spec.long] = true;
      continue;
    }
    const value = a.startsWith('--') && eq !== -1 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (value.startsWith('-') && value.length > 1 && !/^-\d/.test(value)))
      throw new UsageError(`option ${name} needs a value`);
    values[spec.long] = value;
  }
  return { values, positional };
}

export const START_OPTIONS: readonly OptionSpec[] = [
  { short: 'o', long: 'org' },
  { short: 'e', long: 'env' },
  { short: 'k', long: 'key' },
  { short: 's', long: 'secret' },
  { short: 'p', long: 'processes' },
  { short: 'd', long: 'pluginDir' },
  { short: 'r', long: 'port' },
  { short: 'c', long: 'configDir' },
  { short: 'u', long: 'configUrl' },
  { short: 'a', long: 'apiProxyName' },
  { short: 'v', long: 'revision' },
  { short: 'b', long: 'basepath' },
  { short: 't', long: 'target' },
  { long: 'standalone' },
];
