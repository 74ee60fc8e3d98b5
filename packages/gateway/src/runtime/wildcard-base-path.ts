// Wildcard proxy base paths (`/v1/*/orders`, `/api/**/v2`): microgateway-core matches a proxy's
// base_path as a minimatch glob, as a prefix of the request path on a segment boundary. Here the glob
// is parsed once at config time into segment patterns (`*` within one segment, `**` for zero or more
// segments; no regular expression is built from it). Core routes on the literal part before the first
// wildcard segment; a gate plugin, first in that route's chain, checks the rest of the glob against
// the normalised path the engine routed on and forwards target path + what follows the matched part
// (edgemicro strips the prefix with a lazy regular expression that can cut a segment in two; whole
// segments are stripped here). A path the glob does not cover gets edgemicro's 404.
import type { EngineError, LoadedPlugin, NativePlugin, PluginLogger, PluginStats } from '@gatehouse/core';
import { definePlugin, initPlugin } from '@gatehouse/core';
import { compileWildcard } from '../config/wildcard.js';
import type { EdgeProxy } from '../control-plane/types.js';
import { renderEdgemicroError } from './error-renderer.js';

type Segment = { readonly any: true } | { readonly any: false; readonly test: (seg: string) => boolean };

export interface WildcardBasePath {
  /** The segments before the first wildcard (`/` when the first segment has one). */
  readonly literal: string;
  readonly rest: readonly Segment[];
}

const GATE_PREFIX = 'gatehouse:base-path:';

export const gateName = (proxyName: string): string => `${GATE_PREFIX}${proxyName}`;

export const isWildcard = (basePath: string): boolean => basePath.includes('*');

/** Parse a wildcard base path, or say why it cannot be one (glob syntax beyond `*` and `**`). */
export function parseWildcardBasePath(basePath: string): WildcardBasePath | string {
  if (/[?[\]{}()!+@]/.test(basePath))
    return 'only "*" and "**" are supported in a wildcard base path (no ?, [], {}, or extglobs)';
  const segs = basePath.split('/').filter((s) => s !== '');
  const first = segs.findIndex((s) => s.includes('*'));
  const rest: Segment[] = segs
    .slice(first)
    .map((s) => (s === '**' ? { any: true } : { any: false, test: segmentTest(s) }));
  return { literal: `/${segs.slice(0, first).join('/')}`, rest };
}

/** One segment's pattern: `*` is any run of characters (a lone `*` at least one), and, as in
 *  minimatch, a wildcard never matches a leading dot. */
function segmentTest(pattern: string): (seg: string) => boolean {
  if (!pattern.includes('*')) return (seg) => seg === pattern;
  const wildcard = compileWildcard(pattern.replace(/\*+/g, '*'));
  const dotOk = pattern.startsWith('.');
  return (seg) => seg.length > 0 && (dotOk || !seg.startsWith('.')) && wildcard(seg);
}

/** How many of `segs` the pattern covers as a prefix (the fewest that match), or -1. Linear in
 *  pattern × path segments: a client controls the path. */
function matchedSegments(rest: readonly Segment[], segs: readonly string[]): number {
  const n = segs.length;
  let cur = new Uint8Array(n + 1);
  cur[0] = 1;
  for (const part of rest) {
    const next = new Uint8Array(n + 1);
    if (part.any) {
      // Zero or more segments, none a dot segment (minimatch's globstar).
      for (let k = 0; k <= n; k++) {
        if (!cur[k]) continue;
        next[k] = 1;
        for (let j = k; j < n && !segs[j]!.startsWith('.'); j++) next[j + 1] = 1;
      }
    } else {
      for (let k = 0; k < n; k++) if (cur[k] && part.test(segs[k]!)) next[k + 1] = 1;
    }
    cur = next;
  }
  return cur.indexOf(1);
}

const NOT_FOUND = renderEdgemicroError({
  code: 'not_found',
  status: 404,
  message: 'no match found',
} as EngineError);

/** The gate of one wildcard proxy (see the file's head). */
function wildcardGate(proxy: EdgeProxy, parsed: WildcardBasePath): NativePlugin {
  const targetBase = new URL(proxy.url).pathname.replace(/\/+$/, '');
  const literalSegs = parsed.literal.split('/').filter(Boolean).length;
  return definePlugin({
    name: gateName(proxy.name),
    init: () => ({
      onRequest(ctx) {
        const segs = ctx.req.routedPath.split('/').filter(Boolean);
        const covered = matchedSegments(parsed.rest, segs.slice(literalSegs));
        if (covered < 0) return ctx.respond(NOT_FOUND.status, NOT_FOUND.body, NOT_FOUND.headers);
        // Plugins see the proxy's own base path, as edgemicro's do (product resources are relative to it).
        if (ctx.res.proxy.base_path !== proxy.base_path)
          ctx.res.proxy = { ...ctx.res.proxy, base_path: proxy.base_path };
        if (covered === 0) return;
        // The engine's target: upstream path + the (still encoded) remainder after the literal part.
        const t = ctx.req.targetPath;
        const q = t.indexOf('?');
        const path = q === -1 ? t : t.slice(0, q);
        const after = path.startsWith(targetBase) ? path.slice(targetBase.length) : path;
        const parts = after.split('/');
        // parts[0] is '' (after starts with '/'); drop the covered segments after it.
        const rest = parts.slice(1 + covered);
        const forwarded = rest.length ? `${targetBase}/${rest.join('/')}` : targetBase || '/';
        ctx.req.targetPath = forwarded + (q === -1 ? '' : t.slice(q));
      },
    }),
  });
}

/** The loaded gates of the wildcard proxies (none when every base path is literal). */
export async function wildcardGates(
  proxies: readonly EdgeProxy[],
  logger: (name: string) => PluginLogger,
  stats: PluginStats,
): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const p of proxies) {
    if (!isWildcard(p.base_path)) continue;
    const parsed = parseWildcardBasePath(p.base_path);
    if (typeof parsed === 'string') continue; // translate refused the config already
    out.push(
      await initPlugin(gateName(p.name), wildcardGate(p, parsed), {}, logger(gateName(p.name)), stats),
    );
  }
  return out;
}
