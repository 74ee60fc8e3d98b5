// Where a plugin named by a route is found in `plugins.dir`, checked without loading it: `check` and
// the cluster primary refuse a config whose plugins are not there before any worker tries to run it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GatehouseConfig } from '../config/types.js';
import type { ConfigProblem } from '../config/validate.js';

/** Why `<dir>/<name>` is not a plugin directory, or undefined when it is one. */
export function pluginDirProblem(dir: string, name: string): string | undefined {
  if (!name || name.includes('/') || name.includes('\\') || name === '.' || name === '..')
    return `invalid plugin name "${name}"`;
  const root = resolve(dir, name);
  if (!existsSync(join(root, 'package.json')) || !existsSync(join(root, 'index.js')))
    return `plugin "${name}" not found in ${resolve(dir)} (need ${name}/package.json and ${name}/index.js)`;
  return undefined;
}

/** Every route plugin that `plugins.dir` (relative to `baseDir`) does not have, by key path. */
export function missingPlugins(config: GatehouseConfig, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!config.plugins) return problems;
  const dir = resolve(baseDir, config.plugins.dir);
  config.servers.forEach((s, si) =>
    s.routes.forEach((r, ri) =>
      (r.plugins ?? []).forEach((name, pi) => {
        const message = pluginDirProblem(dir, name);
        if (message) problems.push({ path: `servers[${si}].routes[${ri}].plugins[${pi}]`, message });
      }),
    ),
  );
  return problems;
}
