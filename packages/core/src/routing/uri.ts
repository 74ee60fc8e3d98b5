// Request-target handling: split the raw target, and compute nginx's `$uri` (percent-decoded,
// dot segments resolved, slashes merged) on which routes are matched. The raw target is what we
// forward unless a route says otherwise, so it is never re-encoded here.

export interface ParsedTarget {
  /** Raw path as the client sent it (origin form), without the query. */
  rawPath: string;
  /** Raw query without `?`, or '' when absent. */
  args: string;
  /** Whether the target had a `?`. */
  hasQuery: boolean;
  /** Decoded, normalised path (nginx `$uri`). */
  uri: string;
  /** Raw path with dot segments removed and `//` merged, percent-encodings kept (for base-path targets). */
  cleanPath: string;
}

export type TargetError = 'invalid_target' | 'ambiguous_path';

const HEX = /^[0-9a-fA-F]{2}$/;

/** Parse an origin-form target. Returns an error code for targets a strict proxy must refuse. */
export function parseTarget(target: string): ParsedTarget | TargetError {
  if (target.length === 0 || target.charCodeAt(0) !== 47 /* / */) return 'invalid_target';
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const args = q === -1 ? '' : target.slice(q + 1);
  // Fast path: nothing to decode, no dot segments, no double slashes (the common case).
  if (isPlain(rawPath)) {
    return { rawPath, args, hasQuery: q !== -1, uri: rawPath, cleanPath: rawPath };
  }
  const decoded = decodePath(rawPath, false);
  if (decoded === null) return 'invalid_target';
  const uri = normalizeSegments(decoded);
  // Decode everything but %2F, normalise, then decode %2F: if the result differs, decoding created
  // or hid a path separator next to a dot segment (`/a%2F..%2Fb`). nginx accepts these; we refuse
  // them because an upstream that does not decode %2F would see a different resource than the one
  // we routed (and authorised) on.
  const keepSlash = decodePath(rawPath, true);
  if (keepSlash === null) return 'invalid_target';
  const alt = normalizeSegments(keepSlash).replace(/%2F/gi, '/');
  if (alt !== uri) return 'ambiguous_path';
  // `..;x` is `..` to servers that strip path parameters (Tomcat, Spring): refuse it.
  if (/(^|\/)\.\.?;/.test(decoded)) return 'ambiguous_path';
  return { rawPath, args, hasQuery: q !== -1, uri, cleanPath: cleanRaw(rawPath) };
}

/** Does a normalised path have a segment ending in `.` or whitespace (`/a./b`, `/a%20`)? Windows-style
 *  servers strip those characters, so such a segment names the same resource as the one without them. */
export function hasTrailingDotSegment(uri: string): boolean {
  for (let i = 1; i < uri.length; i++) {
    const n = uri.charCodeAt(i);
    if (n !== 47 && i !== uri.length - 1) continue;
    const last = n === 47 ? uri.charCodeAt(i - 1) : n;
    if (last === 46 /* . */ || last === 32 || last === 9 || last === 0x0b || last === 0x0c) return true;
  }
  return false;
}

function isPlain(path: string): boolean {
  let prev = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 59 /* ; */) return false;
    if (c === 37 /* % */) return false;
    if (c === 47 /* / */ && prev === 47) return false;
    if (c === 46 /* . */ && prev === 47) {
      const n = path.charCodeAt(i + 1);
      // "/." followed by end, "/", or ".": a dot segment (".x" is an ordinary name).
      if (Number.isNaN(n) || n === 47 || n === 46) return false;
    }
    if (c < 0x21 || c === 0x7f || c > 0x7e) return false;
    prev = c;
  }
  return true;
}

/** Percent-decode; refuse %00, malformed escapes and control characters. */
function decodePath(path: string, keepSlash: boolean): string | null {
  let out = '';
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return null;
    if (c !== 37) continue;
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return null;
    const byte = parseInt(hex, 16);
    if (byte === 0) return null;
    if (keepSlash && byte === 0x2f) continue;
    out += path.slice(start, i) + String.fromCharCode(byte);
    start = i + 3;
    i += 2;
  }
  out += path.slice(start);
  // Decoded bytes are UTF-8; keep the byte string when they are not valid UTF-8.
  const text = Buffer.from(out, 'latin1').toString('utf8');
  return text.includes('\ufffd') ? out : text;
}

/** Remove dot segments and merge slashes (RFC 3986 §5.2.4 plus nginx `merge_slashes on`). */
function normalizeSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '' || s === '.') {
      if (i === segments.length - 1) out.push('');
      continue;
    }
    if (s === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
      continue;
    }
    out.push(s);
  }
  return '/' + out.join('/');
}

/** Dot-segment removal on the raw path, treating %2E as '.', keeping every other escape. */
function cleanRaw(rawPath: string): string {
  const segments = rawPath.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const dots = s.replace(/%2e/gi, '.');
    if (s === '' || dots === '.') {
      if (i === segments.length - 1) out.push('');
      continue;
    }
    if (dots === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
      continue;
    }
    out.push(s);
  }
  return '/' + out.join('/');
}

/** Percent-encode a decoded path for sending upstream (after a rewrite), like nginx's URI escaping. */
export function encodePath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => (c === '?' ? '%3F' : '%23'));
}
