// Read a YAML file with js-yaml (as edgemicro does) into a plain object; a syntax error names the
// file and line. `keyLine` finds the line a key path is written on, so later errors can name it too.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { EdgemicroConfigError } from './errors.js';

export interface YamlDocument {
  readonly file: string;
  readonly text: string;
  readonly value: Record<string, unknown>;
}

export function parseYaml(text: string, file: string): YamlDocument {
  let value: unknown;
  try {
    // JSON_SCHEMA-like core schema: no custom tags, no functions; duplicate keys are errors.
    value = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    const e = err as { reason?: string; mark?: { line: number; column: number }; message?: string };
    throw new EdgemicroConfigError([
      {
        key: 'yaml',
        message: `${e.reason ?? e.message ?? String(err)}${e.mark ? ` (column ${e.mark.column + 1})` : ''}`,
        file,
        line: e.mark ? e.mark.line + 1 : undefined,
      },
    ]);
  }
  if (value === undefined || value === null) value = {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new EdgemicroConfigError([{ key: 'config', message: 'expected a mapping at the top level', file }]);
  return { file, text, value: value as Record<string, unknown> };
}

export function readYamlFile(file: string): YamlDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EdgemicroConfigError([
      {
        key: 'file',
        message: code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (err as Error).message})`,
        file,
      },
    ]);
  }
  return parseYaml(text, file);
}

/**
 * The 1-based line of a block-style key path (`['edgemicro', 'logging', 'level']`), or undefined.
 * Follows indentation: each key must appear deeper than its parent, before the parent's block ends.
 */
export function keyLine(text: string, path: readonly string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  let parentIndent = -1;
  let found: number | undefined;
  for (const key of path) {
    found = undefined;
    if (/^\d+$/.test(key)) {
      // The n-th item of a block list; its first key sits on the item's own line after "- ".
      let n = Number(key);
      let listIndent: number | undefined;
      for (let i = from; i < lines.length; i++) {
        const line = lines[i]!;
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) continue;
        const indent = line.length - line.trimStart().length;
        const item = trimmed === '-' || trimmed.startsWith('- ');
        if (!item && indent <= parentIndent) break;
        if (!item || (listIndent !== undefined && indent !== listIndent)) continue;
        listIndent ??= indent;
        if (n-- > 0) continue;
        found = i;
        lines[i] = `${line.slice(0, indent)} ${line.slice(indent + 1)}`;
        parentIndent = indent;
        from = i;
        break;
      }
      if (found === undefined) return undefined;
      continue;
    }
    let childIndent: number | undefined;
    for (let i = from; i < lines.length; i++) {
      const line = lines[i]!;
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const indent = line.length - line.trimStart().length;
      if (indent <= parentIndent) break;
      childIndent ??= indent;
      if (indent !== childIndent) continue;
      const m = /^(["']?)([^:#"']+)\1\s*:(?:\s|$)/.exec(trimmed);
      if (m && m[2]!.trim() === key) {
        found = i;
        parentIndent = indent;
        from = i + 1;
        break;
      }
    }
    if (found === undefined) return undefined;
  }
  return found === undefined ? undefined : found + 1;
}
