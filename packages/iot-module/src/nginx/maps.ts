// `map source $variable { … }` → a native lazy map. Exact keys, `~`/`~*` regex keys in file order,
// `default`, and `hostnames`/`volatile` (accepted: maps are evaluated per request anyway).
import type { NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type { MapConfig } from './native-types.js';

export function compileMap(ctx: CompileContext, d: NginxDirective): MapConfig {
  const map: MapConfig = { source: d.args[0]!.value, variable: ctx.variableName(d, d.args[1]!) };
  const seen = new Set<string>();
  let hostnames = false;
  for (const entry of d.block ?? []) {
    const value = entry.args[0];
    if (!value) {
      if (entry.name === 'hostnames') hostnames = true;
      continue; // `volatile`
    }
    let key = entry.name;
    if (key === 'default') {
      if (map.default !== undefined) ctx.fail('duplicate default map parameter', entry);
      map.default = value.value;
      continue;
    }
    if (key.startsWith('~')) {
      const caseInsensitive = key.startsWith('~*');
      const pattern = key.slice(caseInsensitive ? 2 : 1);
      const regex = ctx.regex(pattern, caseInsensitive, entry);
      (map.regexEntries ??= []).push(
        caseInsensitive ? { regex, caseInsensitive, value: value.value } : { regex, value: value.value },
      );
      continue;
    }
    if (key.startsWith('\\')) key = key.slice(1); // `\~literal` escapes a leading tilde
    if (hostnames && (key.startsWith('*.') || key.startsWith('.') || key.endsWith('.*'))) {
      ctx.notice('"map" with "hostnames": wildcard keys are compared as exact strings', entry);
    }
    if (seen.has(key)) ctx.fail(`conflicting parameter "${key}"`, entry);
    seen.add(key);
    (map.entries ??= []).push({ key, value: value.value });
  }
  return map;
}
