// A character trie of path prefixes: finding the longest matching prefix costs O(path length),
// whatever the number of routes (10,000 base paths cost the same as one).

interface Node<T> {
  children: Map<number, Node<T>> | null;
  value: T | undefined;
  /** Matches only at a segment boundary: the next path character is '/' or the path ends. */
  segment: boolean;
}

/** ASCII lower case of one character code (non-ASCII is left alone, so lengths never change). */
export function lowerCode(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

export class PrefixTree<T> {
  private readonly root: Node<T> = { children: null, value: undefined, segment: false };
  size = 0;

  /** With `ignoreCase`, ASCII letters match in either case. */
  constructor(private readonly ignoreCase = false) {}

  /** Insert; returns false if this exact prefix (with the same boundary rule) is already present. */
  insert(prefix: string, value: T, segment = false): boolean {
    let node = this.root;
    for (let i = 0; i < prefix.length; i++) {
      const c = this.ignoreCase ? lowerCode(prefix.charCodeAt(i)) : prefix.charCodeAt(i);
      node.children ??= new Map();
      let next = node.children.get(c);
      if (!next) {
        next = { children: null, value: undefined, segment: false };
        node.children.set(c, next);
      }
      node = next;
    }
    if (node.value !== undefined) return false;
    node.value = value;
    node.segment = segment;
    this.size++;
    return true;
  }

  /** The value of the longest prefix of `path` present in the tree. */
  longest(path: string): T | undefined {
    let node: Node<T> | undefined = this.root;
    let best = this.acceptable(node, path, 0);
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      node = node.children?.get(this.ignoreCase ? lowerCode(c) : c);
      if (!node) break;
      const v = this.acceptable(node, path, i + 1);
      if (v !== undefined) best = v;
    }
    return best;
  }

  private acceptable(node: Node<T>, path: string, end: number): T | undefined {
    if (node.value === undefined) return undefined;
    if (!node.segment || end === path.length || end === 0) return node.value;
    // A base path ending in '/' (only "/" itself after normalisation) or followed by '/' matches; so does
    // one followed by ';' (path parameters: servers that strip `;x` would serve the base path itself).
    const next = path.charCodeAt(end);
    return next === 47 || next === 59 || path.charCodeAt(end - 1) === 47 ? node.value : undefined;
  }
}
