// microgateway-core callers list their proxies in the config object (`proxies: [{ base_path, url }]`),
// usually without the fields Edge's bootstrap adds. Each entry becomes the control plane's proxy shape;
// a missing or malformed base path or URL is a config error naming the entry.
import { EdgemicroConfigError, type ConfigProblem } from '../config/errors.js';
import type { EdgeProxy } from '../control-plane/types.js';

export function proxiesFromConfig(raw: unknown, defaultMaxConnections: number): EdgeProxy[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw new EdgemicroConfigError([{ key: 'config.proxies', message: 'expected a list of proxies' }]);
  const problems: ConfigProblem[] = [];
  const out: EdgeProxy[] = [];
  raw.forEach((entry: unknown, i) => {
    const key = `config.proxies.${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push({ key, message: 'expected a mapping with base_path and url' });
      return;
    }
    const p = entry as Record<string, unknown>;
    const text = (field: string): string | undefined => {
      const v = p[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v === '') {
        problems.push({
          key: `${key}.${field}`,
          message: `invalid value: ${JSON.stringify(v)} (expected a string)`,
        });
        return undefined;
      }
      return v;
    };
    const count = (field: string): number | undefined => {
      const v = p[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        problems.push({
          key: `${key}.${field}`,
          message: `invalid value: ${JSON.stringify(v)} (expected a positive integer)`,
        });
        return undefined;
      }
      return v;
    };
    const basePath = text('base_path');
    const url = text('url');
    if (basePath === undefined) problems.push({ key: `${key}.base_path`, message: 'is not defined' });
    else if (!basePath.startsWith('/'))
      problems.push({
        key: `${key}.base_path`,
        message: `must start with "/" (got ${JSON.stringify(basePath)})`,
      });
    if (url === undefined) problems.push({ key: `${key}.url`, message: 'is not defined' });
    const maxConnections = count('max_connections');
    const timeout = count('timeout');
    const name = text('name');
    if (basePath === undefined || url === undefined) return;
    out.push({
      name: name ?? `proxy${i}`,
      revision: text('revision') ?? '1',
      proxy_name: text('proxy_name') ?? 'default',
      base_path: basePath,
      target_name: text('target_name') ?? 'default',
      url,
      max_connections: maxConnections ?? defaultMaxConnections,
      ...(timeout !== undefined ? { timeout } : {}),
    });
  });
  if (problems.length) throw new EdgemicroConfigError(problems);
  return out;
}
