// HTTP/1.1 syntax shared by the message parsers and the request writer (RFC 9110 §5.6, RFC 9112).

/** A token: a method, a header field name, a transfer coding. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
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

/** Any octet a head may not hold outside its line ends: controls other than HTAB, CR and LF; DEL. */
const NOT_HEAD_TEXT = /[^\t\r\n\x20-\x7e\x80-\xff]/;
/** A CR not followed by LF, or an LF not preceded by CR. */
const BARE_CR_OR_LF = /\r(?!\n)|(?<!\r)\n/;

/** Check a head's text (its lines joined by CRLF, without the final empty line) as a whole. */
export function checkHeadText(text: string): HttpParseError | undefined {
  if (BARE_CR_OR_LF.test(text)) return new HttpParseError('HPE_STRICT', 'bare CR or LF in a head');
  if (NOT_HEAD_TEXT.test(text))
    return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a head');
  return undefined;
}

/**
 * Parse the header field lines of `text` from `pos` (lines separated by CRLF; the text passed
 * checkHeadText) into a flat [name, value, …] list as received. Refuses obs-fold, whitespace
 * before the colon and an empty or non-token name.
 */
export function parseFieldLines(text: string, pos: number, into: string[]): HttpParseError | undefined {
  const len = text.length;
  while (pos < len) {
    let eol = text.indexOf('\r\n', pos);
    if (eol === -1) eol = len;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > eol) {
      const c = text.charCodeAt(pos);
      return c === SP || c === HTAB
        ? new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'obs-fold (a header line starting with whitespace)')
        : new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'a header line without a field name and colon');
    }
    const name = text.slice(pos, colon);
    if (!TOKEN.test(name))
      return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header field name');
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (text.charCodeAt(vs) === SP || text.charCodeAt(vs) === HTAB)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === SP || text.charCodeAt(ve - 1) === HTAB)) ve--;
    into.push(name, text.slice(vs, ve));
    pos = eol + 2;
  }
  return undefined;
}

/** Whether a comma-separated field value (Connection, Transfer-Encoding) lists `token` (lower case). */
export function listsToken(value: string, token: string): boolean {
  if (value === token) return true;
  const lower = value.toLowerCase();
  if (lower === token) return true;
  if (!lower.includes(',')) return false;
  for (const part of lower.split(',')) if (trimOws(part) === token) return true;
  return false;
}

/** The last element of a comma-separated list, lower-cased and trimmed. */
export function lastToken(value: string): string {
  const comma = value.lastIndexOf(',');
  return trimOws(comma === -1 ? value : value.slice(comma + 1)).toLowerCase();
}
