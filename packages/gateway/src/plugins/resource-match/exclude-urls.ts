// `<plugin>.excludeUrls`: paths a plugin does not run for. Matched on the normalised path the engine
// routed on, case-sensitively (a looser match would widen what skips authentication), with the
// same globs as product resources.
import type { PluginRequest } from '@gatehouse/core';
import { compileGlob } from './glob.js';

export type ExcludeTest = (req: PluginRequest) => boolean;

export function compileExcludeUrls(patterns: readonly string[]): ExcludeTest {
  if (patterns.length === 0) return () => false;
  const matchers = patterns.map((p) => compileGlob(p, { ignoreCase: false }));
  return (req) => {
    const path = req.routedPath;
    // Without the engine's normalised path there is nothing safe to match: run the plugin.
    if (typeof path !== 'string') return false;
    return matchers.some((m) => m(path));
  };
}
