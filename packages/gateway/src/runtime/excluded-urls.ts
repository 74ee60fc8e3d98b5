// `edgemicro.plugins.excludeUrls`: on these paths only analytics and metrics run (microgateway-core
// 3.3.7 PluginsSeqManager). A pattern is a path, query ignored, where each `*` stands for any run of
// characters, `/` included (edgemicro turns it into `.*`, anchored, case-sensitive). It is matched on
// the normalised path the engine routed on (the path the target gets), never on the raw URL, with a
// wildcard matcher compiled at config time: no regular expression is built from configuration text.
import type { EdgemicroHandler, EdgemicroHandlers, LoadedPlugin, PluginRequest } from '@gatehouse/core';
import { compileWildcard } from '../config/wildcard.js';

/** Plugins that still run on excluded paths (edgemicro's default plugins). */
const ALWAYS = new Set(['analytics', 'metrics']);

// A path some backend would read differently (a backslash separator, an escape left after the
// engine's one decoding of `.`, `/` or `\`) is never excluded: the plugins run (fail closed).
const AMBIGUOUS = /\\|%(?:2[eE]|2[fF]|5[cC])/;

type PathTest = (path: string) => boolean;

/** A test of normalised paths against the patterns (false for none). */
function compileExcludedUrls(patterns: readonly string[]): PathTest | undefined {
  const tests = patterns
    .map((p) => p.split('?')[0]!.trim())
    .filter(Boolean)
    .map((p) => compileWildcard(p));
  if (!tests.length) return undefined;
  return (path) => !AMBIGUOUS.test(path) && tests.some((t) => t(path));
}

/** The plugins with every hook but analytics' and metrics' skipped on excluded paths. */
export function skipOnExcludedUrls(
  plugins: readonly LoadedPlugin[],
  patterns: readonly string[],
): LoadedPlugin[] {
  const test = compileExcludedUrls(patterns);
  if (!test) return [...plugins];
  const decided = new WeakMap<object, boolean>();
  const excluded = (req: PluginRequest): boolean => {
    let v = decided.get(req);
    if (v === undefined) {
      // Without the engine's normalised path there is nothing safe to match: run the plugins.
      v = typeof req.routedPath === 'string' && test(req.routedPath);
      decided.set(req, v);
    }
    return v;
  };
  return plugins.map((p) =>
    ALWAYS.has(p.name) ? p : { name: p.name, handlers: skipping(p.handlers, excluded) },
  );
}

type Fn = (...args: unknown[]) => void;

/** Each hook wrapped with its arity kept (the pipeline dispatches on it); `this` stays the original. */
function skipping(handlers: EdgemicroHandlers, excluded: (req: PluginRequest) => boolean): EdgemicroHandlers {
  const out: EdgemicroHandlers = {};
  for (const [event, value] of Object.entries(handlers)) {
    const fn = value as Fn;
    let wrapped: unknown = value;
    if (typeof fn === 'function') {
      const call = (args: unknown[]): void => fn.apply(handlers, args);
      switch (fn.length) {
        case 3:
          wrapped = (req: PluginRequest, res: unknown, next: Fn) =>
            excluded(req) ? next() : call([req, res, next]);
          break;
        case 4:
          wrapped = (req: PluginRequest, res: unknown, data: unknown, next: Fn) =>
            excluded(req) ? next() : call([req, res, data, next]);
          break;
        case 5:
          wrapped = (req: PluginRequest, res: unknown, target: unknown, data: unknown, next: Fn) =>
            excluded(req) ? next() : call([req, res, target, data, next]);
          break;
        default:
        // Called without arguments: no request to decide on; left as it is.
      }
    }
    (out as Record<string, unknown>)[event] = wrapped as EdgemicroHandler | string;
  }
  return out;
}
