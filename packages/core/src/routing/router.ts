// Route selection with nginx's location order, plus edgemicro base paths:
//   1. `= /x` exact match wins at once;
//   2. the longest prefix (plain, `^~`, or base path) is remembered;
//   3. if it is `^~` (or a base path) it wins; otherwise regexes are tried in config order and the
//      first match wins; otherwise the remembered prefix.
import type { RouteMatch } from '../config/types.js';
import { lowerCode, PrefixTree } from './prefix-tree.js';
import { compileRegex } from './variables.js';

export interface Selection<T> {
  route: T;
  captures: RegExpExecArray | null;
}

interface PrefixEntry<T> {
  route: T;
  stopRegex: boolean;
}

export interface RouterOptions {
  /** Match ignoring ASCII case (server `paths.ignoreCase`). */
  ignoreCase?: boolean;
}

export class Router<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes: PrefixTree<PrefixEntry<T>>;
  private readonly regexes: Array<{ re: RegExp; route: T }> = [];
  private readonly ignoreCase: boolean;

  constructor(options: RouterOptions = {}) {
    this.ignoreCase = options.ignoreCase === true;
    this.prefixes = new PrefixTree(this.ignoreCase);
  }

  /** Add a route; returns an error message for a duplicate location. */
  add(match: RouteMatch, route: T): string | undefined {
    if ('exact' in match) {
      const key = this.ignoreCase ? asciiLower(match.exact) : match.exact;
      if (this.exact.has(key)) return `duplicate exact location "${match.exact}"`;
      this.exact.set(key, route);
    } else if ('prefix' in match) {
      if (!this.prefixes.insert(match.prefix, { route, stopRegex: match.stopRegex === true }))
        return `duplicate prefix location "${match.prefix}"`;
    } else if ('basePath' in match) {
      const base = normalizeBasePath(match.basePath);
      if (!this.prefixes.insert(base, { route, stopRegex: true }, true))
        return `duplicate base path "${match.basePath}"`;
    } else {
      this.regexes.push({ re: compileRegex(match.regex, match.caseInsensitive || this.ignoreCase), route });
    }
    return undefined;
  }

  select(uri: string): Selection<T> | undefined {
    const exact = this.exact.size ? this.exact.get(this.ignoreCase ? asciiLower(uri) : uri) : undefined;
    if (exact !== undefined) return { route: exact, captures: null };
    const prefix = this.prefixes.size ? this.prefixes.longest(uri) : undefined;
    if (prefix?.stopRegex) return { route: prefix.route, captures: null };
    for (let i = 0; i < this.regexes.length; i++) {
      const r = this.regexes[i]!;
      const m = r.re.exec(uri);
      if (m) return { route: r.route, captures: m };
    }
    return prefix ? { route: prefix.route, captures: null } : undefined;
  }
}

/** `/v1/` → `/v1`; `/` stays `/`. */
export function normalizeBasePath(base: string): string {
  let b = base.startsWith('/') ? base : `/${base}`;
  while (b.length > 1 && b.endsWith('/')) b = b.slice(0, -1);
  return b;
}

/** ASCII-only lower case: Unicode case mapping may change a string's length, which would break the
 *  prefix arithmetic done on the matched route later. */
function asciiLower(s: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const l = lowerCode(c);
    if (l !== c) {
      out += s.slice(start, i) + String.fromCharCode(l);
      start = i + 1;
    }
  }
  return start === 0 ? s : out + s.slice(start);
}
