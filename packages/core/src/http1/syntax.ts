// HTTP/1.1 syntax shared by the message parsers and the request writer (RFC 9110 §5.6, RFC 9112).

/** A token: a method, a header field name, a transfer coding. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Any octet a field value may not hold: controls other than HTAB (bare CR and LF included), DEL. */
export const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A request target: visible ASCII and obs-text, no whitespace. */
export const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
/** A Content-Length value. */
export const DIGITS = /^[0-9]+$/;

/** A parse failure. The codes follow llhttp's (HPE_*) so every layer classifies them alike. */
export class HttpParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SP = 0x20;
const HTAB = 0x09;

/** A field value without the optional whitespace around it (SP and HTAB only, unlike trim()). */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === SP || value.charCodeAt(start) === HTAB)) start++;
  while (end > start && (value.charCodeAt(end - 1) === SP || value.charCodeAt(end - 1) === HTAB)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Parse header field lines (`name: value`, CRLF already removed) into a flat [name, value, …] list
 * as received. Refuses obs-fold, whitespace before the colon, an empty or non-token name and any
 * control character in a value.
 */
export function parseFieldLines(
  lines: readonly string[],
  from: number,
  into: string[],
): HttpParseError | undefined {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      const c = line.charCodeAt(0);
      return c === SP || c === HTAB
        ? new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'obs-fold (a header line starting with whitespace)')
        : new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'a header line without a field name and colon');
    }
    const name = line.slice(0, colon);
    if (!TOKEN.test(name))
      return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header field name');
    const raw = line.slice(colon + 1);
    if (NOT_FIELD_VALUE.test(raw))
      return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header field value');
    into.push(name, trimOws(raw));
  }
  return undefined;
}

/** Whether a comma-separated field value (Connection, Transfer-Encoding) lists `token` (lower case). */
export function listsToken(value: string, token: string): boolean {
  const lower = value.toLowerCase();
  if (lower === token) return true;
  for (const part of lower.split(',')) if (trimOws(part) === token) return true;
  return false;
}

/** The last element of a comma-separated list, lower-cased and trimmed. */
export function lastToken(value: string): string {
  const comma = value.lastIndexOf(',');
  return trimOws(comma === -1 ? value : value.slice(comma + 1)).toLowerCase();
}
