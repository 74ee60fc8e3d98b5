// Path patterns as globs, matched segment by segment: `*` in a segment stands for one or more
// characters of that segment, a `**` segment for one or more whole segments; every other character
// is literal. No regular expression is ever built from configuration text, so `.`, `+`, `(`, `?`
// or `[` in a product resource mean themselves.

export interface GlobOptions {
  /** Compare literal parts ignoring case (edgemicro's rule for product resources). Default true. */
  readonly ignoreCase?: boolean;
}

// Paths that mean something else to some backend match nothing (fail closed): a backslash (a
// separator on Windows servers), an escape still present after the engine's single decoding of
// `.`, `/` or `\` (a backend that decodes twice), overlong UTF-8 leads (old decoders read
// `%c0%ae` as `.`).
const SUSPICIOUS =
  /\\|%(?:2[eE]|2[fF]|5[cC])|[\u00c0\u00c1][\u0080-\u00bf]|\u00e0[\u0080-\u009f]|\u00f0[\u0080-\u008f]/;

import { matchPieces } from '../../config/wildcard.js';

type Part = { readonly kind: 'any' } | { readonly kind: 'seg'; readonly pieces: readonly string[] };

export type PathMatcher = (path: string) => boolean;

/** Compile `pattern` (absolute, `/`-separated) into a matcher of normalised request paths. One
 *  trailing `/` on the path is ignored, as edgemicro's appended `[/]?` does. */
export function compileGlob(pattern: string, options: GlobOptions = {}): PathMatcher {
  const ignoreCase = options.ignoreCase ?? true;
  const fold = (s: string): string => (ignoreCase ? s.toLowerCase() : s);
  const parts: Part[] = splitPath(pattern).map((seg) =>
    seg === '**' ? { kind: 'any' } : { kind: 'seg', pieces: fold(seg).split(/\*+/) },
  );
  return (path: string) => {
    if (SUSPICIOUS.test(path)) return false;
    return matchParts(parts, splitPath(fold(path)));
  };
}

function splitPath(path: string): string[] {
  let p = path;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '/' || p === '') return [];
  return (p.startsWith('/') ? p.slice(1) : p).split('/');
}

// Linear in pattern parts × path segments (a client controls the path: no backtracking blow-up).
function matchParts(parts: readonly Part[], segs: readonly string[]): boolean {
  const n = segs.length;
  let cur = new Uint8Array(n + 1);
  cur[0] = 1;
  for (const part of parts) {
    const next = new Uint8Array(n + 1);
    if (part.kind === 'any') {
      // One or more segments: k is reachable when some earlier position was.
      let seen = 0;
      for (let k = 0; k <= n; k++) {
        if (seen) next[k] = 1;
        if (cur[k]) seen = 1;
      }
    } else {
      // Each `*` covers at least one character of the segment.
      for (let si = 0; si < n; si++) if (cur[si] && matchPieces(part.pieces, segs[si]!, 1)) next[si + 1] = 1;
    }
    cur = next;
  }
  return cur[n] === 1;
}
