// Patterns where `*` stands for a run of characters, compiled once into literal pieces compared as
// text, so no regular expression is ever built from configuration: edgemicro's simple wildcard
// (`*` → `.*`, anchored, case-sensitive) for `plugins.excludeUrls` and `edge_config.proxyPattern`
// here, and the segments of product resource globs (plugins/resource-match/glob.ts).

/** Does `text` match the pieces of a pattern split at its `*`s, each `*` covering at least `minRun`
 *  characters? Leftmost placement of each middle piece is optimal (linear time). */
export function matchPieces(pieces: readonly string[], text: string, minRun: number): boolean {
  if (pieces.length === 1) return text === pieces[0];
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  const end = text.length - last.length;
  let pos = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (piece === '' && minRun === 0) continue;
    const at = text.indexOf(piece, pos + minRun);
    if (at === -1 || at + piece.length > end - minRun) return false;
    pos = at + piece.length;
  }
  return end >= pos + minRun;
}

/** A test of whole strings against `pattern`, where each `*` stands for any run of characters. */
export function compileWildcard(pattern: string): (text: string) => boolean {
  const pieces = pattern.split('*');
  return (text) => matchPieces(pieces, text, 0);
}
