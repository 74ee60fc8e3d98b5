// The byte-level pass both head parsers share (requests in request-head.ts, responses in
// response-head.ts): find the CRLF CRLF that ends a head, check every byte of its field lines on
// the way and note where each line, colon and value are, without making a string. A loop over
// bytes with a class table is much cheaper here than regular expressions over a string.
import { HttpParseError } from './syntax.js';

// Character classes, one bit each, looked up by char code (latin1 strings and bytes alike).
export const TOKEN = 1;
export const VCHAR = 2;
/** What llhttp accepts in the authority of an absolute-form or CONNECT target. */
export const SERVER = 4;
export const ALPHA = 8;
export const METHOD_CHAR = 16;
/** What a field value or a reason phrase may hold: HTAB, SP, visible ASCII, obs-text. */
export const FIELD_TEXT = 32;
export const CHAR = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  CHAR[ch.charCodeAt(0)]! |= TOKEN;
for (let c = 0x21; c <= 0x7e; c++) {
  CHAR[c]! |= VCHAR;
  if (!'"#<>\\^`{|}'.includes(String.fromCharCode(c))) CHAR[c]! |= SERVER;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) CHAR[c]! |= ALPHA;
  if ((c >= 0x41 && c <= 0x5a) || c === 0x2d) CHAR[c]! |= METHOD_CHAR;
}
for (let c = 0; c < 256; c++) if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) CHAR[c]! |= FIELD_TEXT;

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;

/** `text` from `at` is `lower` in any case (`lower`: lower-case letters and `-`). */
export function sameName(text: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++)
    if ((text.charCodeAt(at + k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** `name` is the field name `lower` (lower-case) in any case: any token characters, ASCII letters
 *  folded (sameName's `| 0x20` would also fold `_` and `^`). */
export function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    let c = name.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** A field name: a token (RFC 9110 §5.6.2). */
export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c > 0xff || (CHAR[c]! & TOKEN) === 0) return false;
  }
  return true;
}

/** A field value: HTAB, SP, visible ASCII and obs-text only (no CR or LF to split the head). */
export function isFieldValue(value: string): boolean {
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c > 0xff || (CHAR[c]! & FIELD_TEXT) === 0) return false;
  }
  return true;
}

export function hasTab(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === HTAB) return true;
  return false;
}

/** scanHead's results other than the end of the head. */
const MORE = -1;
const BAD_CHAR = -2;
const BARE_CR = -3;
export const BAD_NAME = -4;
export const OBS_FOLD = -5;

/**
 * Where scanHead leaves the head's layout (offsets in the buffer): [0] the end of the start line,
 * then for each field line its start, its colon and its end. Shared (parsing is synchronous), grown
 * when a head has many fields.
 */
let spans = new Int32Array(1 + 3 * 64);
let fieldCount = 0;

/**
 * One pass over the bytes of a head from `start` (its start line, after any empty lines) to at most
 * `limit`: finds the CRLF CRLF that ends it and checks every byte of the field lines on the way — no
 * control but HTAB, CR only in CRLF, field names tokens up to the colon — noting the layout in
 * `spans`. The start line is only delimited: each parser checks its own. Returns where the CRLF CRLF
 * starts, MORE when it is not before `limit` (all bytes up to there are valid), or an error (negative).
 */
function scanHead(buf: Buffer, start: number, limit: number): number {
  let fields = 0;
  let k = buf.indexOf(CR, start);
  if (k === -1 || k >= limit) return MORE;
  spans[0] = k;
  for (;;) {
    // At a CR: LF must follow, then a field name or the empty line that ends the head.
    if (k + 1 >= limit) return MORE;
    if (buf[k + 1] !== LF) return BARE_CR;
    const lineEnd = k;
    k += 2;
    if (k >= limit) return MORE;
    let c = buf[k]!;
    if (c === CR) {
      if (k + 1 >= limit) return MORE;
      if (buf[k + 1] !== LF) return BARE_CR;
      fieldCount = fields;
      return lineEnd;
    }
    const lineStart = k;
    while ((CHAR[c]! & TOKEN) !== 0) {
      if (++k >= limit) return MORE;
      c = buf[k]!;
    }
    if (c !== COLON || k === lineStart)
      return k === lineStart && (c === SP || c === HTAB) ? OBS_FOLD : BAD_NAME;
    const colon = k;
    // The value: anything but controls (HTAB aside) and DEL, up to CR.
    for (;;) {
      if (++k >= limit) return MORE;
      c = buf[k]!;
      if (c < SP || c === 0x7f) {
        if (c === CR) break;
        if (c !== HTAB) return c === LF ? BARE_CR : BAD_CHAR;
      }
    }
    const at = 1 + 3 * fields++;
    if (at + 3 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[at] = lineStart;
    spans[at + 1] = colon;
    spans[at + 2] = k;
  }
}

export function scanError(result: number): HttpParseError {
  switch (result) {
    case BARE_CR:
      return new HttpParseError('HPE_STRICT', 'bare CR or LF in a head');
    case OBS_FOLD:
      return new HttpParseError(
        'HPE_INVALID_HEADER_TOKEN',
        'obs-fold (a header line starting with whitespace)',
      );
    case BAD_NAME:
      return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid header field name, or no colon');
    default:
      return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a head');
  }
}

/**
 * Find the end of a head in `buf` from `start` (no further than `limit`) and check its bytes. Returns
 * where its CRLF CRLF starts (then the head's parser may follow, before any other head is scanned),
 * -1 when it has not arrived yet, or the error.
 */
export function findHeadEnd(buf: Buffer, start: number, limit: number): number | HttpParseError {
  const r = scanHead(buf, start, limit);
  return r >= MORE ? r : scanError(r);
}

/** Where the start line of the head just scanned ends. */
export function startLineEnd(): number {
  return spans[0]!;
}

/** How many field lines the head just scanned has. */
export function scannedFields(): number {
  return fieldCount;
}

/** One field line of the head just scanned, read by readField (one object, reused: no allocation). */
export const field = {
  name: '',
  /** Without the whitespace around it. */
  value: '',
  /** Offsets in the head's text: the line's start (= the name's), its colon, the value, the line's end. */
  start: 0,
  colon: 0,
  valueStart: 0,
  valueEnd: 0,
  end: 0,
};

/** Read field line `f` of the head just scanned into `field`; `text` is the head as latin1 from
 *  buffer offset `start`. */
export function readField(text: string, start: number, f: number): void {
  const at = 1 + 3 * f;
  const pos = spans[at]! - start;
  const colon = spans[at + 1]! - start;
  const lineEnd = spans[at + 2]! - start;
  let vs = colon + 1;
  let ve = lineEnd;
  while (vs < ve && (text.charCodeAt(vs) === SP || text.charCodeAt(vs) === HTAB)) vs++;
  while (ve > vs && (text.charCodeAt(ve - 1) === SP || text.charCodeAt(ve - 1) === HTAB)) ve--;
  field.name = text.slice(pos, colon);
  field.value = vs === ve ? '' : text.slice(vs, ve);
  field.start = pos;
  field.colon = colon;
  field.valueStart = vs;
  field.valueEnd = ve;
  field.end = lineEnd;
}
