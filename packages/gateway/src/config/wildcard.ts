// edgemicro's simple wildcard (`*` → `.*`, anchored, case-sensitive), for `plugins.excludeUrls` and
// `edge_config.proxyPattern`: compiled once into literal pieces compared as text, so no regular
// expression is ever built from configuration.

/** A test of whole strings against `pattern`, where each `*` stands for any run of characters. */
export function compileWildcard(pattern: string): (text: string) => boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return (text) => text === pattern;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const min = first.length + last.length;
  return (text) => {
    if (text.length < min || !text.startsWith(first) || !text.endsWith(last)) return false;
    // Leftmost placement of each middle piece is optimal when `*` matches any run (linear time).
    let pos = first.length;
    const end = text.length - last.length;
    for (const piece of middle) {
      const at = text.indexOf(piece, pos);
      if (at === -1 || at + piece.length > end) return false;
      pos = at + piece.length;
    }
    return true;
  };
}
