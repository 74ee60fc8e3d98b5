// A request head (request line and header fields, without the final empty line), parsed strictly:
// what node's llhttp refuses in strict mode is refused here too (the differential test compares the
// two on the same bytes), a few things more (listed there and in test/hostile/README.md), and the
// framing fields are interpreted once. Also the byte-wise check of a head still arriving, so that
// bytes which can never become a valid head are refused as they come.
import {
  ALPHA,
  BAD_NAME,
  CHAR,
  COLON,
  CR,
  field,
  findHeadEnd,
  hasTab,
  HTAB,
  LF,
  METHOD_CHAR,
  OBS_FOLD,
  readField,
  sameName,
  scanError,
  scannedFields,
  SERVER,
  SP,
  startLineEnd,
  TOKEN,
  VCHAR,
} from './head-scan.js';
import { HttpParseError, trimOws } from './syntax.js';

export { findHeadEnd } from './head-scan.js';

export interface RequestHead {
  /** As received (one of METHODS). */
  method: string;
  /** The request-target as received. */
  target: string;
  /** 0 or 1: HTTP/1.0 or HTTP/1.1. */
  versionMinor: number;
  /** [name, value, …] as received (names keep their case; values without surrounding whitespace). */
  headers: string[];
  /** The Content-Length, or -1 when there is none. */
  contentLength: number;
  /** Transfer-Encoding is present (and then it is exactly `chunked`). */
  chunked: boolean;
  /** The connection may carry another request after this one. */
  keepAlive: boolean;
  /** HTTP/1.1, Connection lists upgrade and an Upgrade field has a value. */
  upgrade: boolean;
  /** The Expect field value lower-cased ('' when absent; several fields joined by ', '). */
  expect: string;
  /** How many Host fields. */
  hosts: number;
}

/** llhttp's HTTP methods: node's `http.METHODS` (the test checks the two lists agree). */
export const METHODS: readonly string[] = [
  'ACL',
  'BIND',
  'CHECKOUT',
  'CONNECT',
  'COPY',
  'DELETE',
  'GET',
  'HEAD',
  'LINK',
  'LOCK',
  'M-SEARCH',
  'MERGE',
  'MKACTIVITY',
  'MKCALENDAR',
  'MKCOL',
  'MOVE',
  'NOTIFY',
  'OPTIONS',
  'PATCH',
  'POST',
  'PROPFIND',
  'PROPPATCH',
  'PURGE',
  'PUT',
  'QUERY',
  'REBIND',
  'REPORT',
  'SEARCH',
  'SOURCE',
  'SUBSCRIBE',
  'TRACE',
  'UNBIND',
  'UNLINK',
  'UNLOCK',
  'UNSUBSCRIBE',
];
const METHOD_SET = new Map(METHODS.map((m) => [m, m]));
const METHOD_PREFIXES = new Set(METHODS.flatMap((m) => [...m].map((_, k) => m.slice(0, k + 1))));

const STAR = 0x2a;
const SLASH = 0x2f;
const QUESTION = 0x3f;

const HTTP_1 = 'HTTP/1.';

const CLOSE = 1;
const KEEP_ALIVE = 2;
const UPGRADE = 4;

/** Where requestLine leaves the line it checked (parsing is synchronous: no object per request). */
let lineMethod = '';
let lineTargetStart = 0;
let lineTargetEnd = 0;
let lineMinor = 0;

const invalidMethod = (): HttpParseError => new HttpParseError('HPE_INVALID_METHOD', 'invalid method');
const invalidTarget = (): HttpParseError => new HttpParseError('HPE_INVALID_URL', 'invalid request target');
const invalidVersion = (): HttpParseError =>
  new HttpParseError('HPE_INVALID_VERSION', 'not HTTP/1.0 or HTTP/1.1');

/** The method in `buf[at, at + length)`, without a new string for the common ones. */
function methodAt(buf: Buffer, at: number, length: number): string | undefined {
  const a = buf[at];
  switch (length) {
    case 3:
      if (a === 0x47 && buf[at + 1] === 0x45 && buf[at + 2] === 0x54) return 'GET';
      if (a === 0x50 && buf[at + 1] === 0x55 && buf[at + 2] === 0x54) return 'PUT';
      break;
    case 4:
      if (a === 0x50 && buf[at + 1] === 0x4f && buf[at + 2] === 0x53 && buf[at + 3] === 0x54) return 'POST';
      if (a === 0x48 && buf[at + 1] === 0x45 && buf[at + 2] === 0x41 && buf[at + 3] === 0x44) return 'HEAD';
      break;
  }
  return METHOD_SET.get(buf.toString('latin1', at, at + length));
}

/** The end of an authority (llhttp's server characters), or of the path or query that follows it. */
function authorityEnd(buf: Buffer, j: number, eol: number): number {
  while (j < eol) {
    const c = buf[j]!;
    if (c === SLASH || c === QUESTION) return pathEnd(buf, j + 1, eol);
    if ((CHAR[c]! & SERVER) === 0) return j;
    j++;
  }
  return j;
}

/** The end of a path, query and fragment: visible ASCII. */
function pathEnd(buf: Buffer, j: number, eol: number): number {
  while (j < eol) {
    const c = buf[j]!;
    if (c <= SP || c >= 0x7f) return j;
    j++;
  }
  return j;
}

/**
 * Where the request-target starting at `j` ends (at the SP before the version if it is valid), or
 * -1. The forms llhttp accepts: origin (`/…`), absolute (`scheme://authority[/…|?…]`, the scheme in
 * letters), `*`, and for CONNECT an authority; all in visible ASCII.
 */
function targetEnd(buf: Buffer, j: number, eol: number, connect: boolean): number {
  if (connect) return authorityEnd(buf, j, eol);
  const c = buf[j]!;
  if (c === SLASH) return pathEnd(buf, j + 1, eol);
  // llhttp lets anything follow `*`; asterisk-form is exactly `*` (RFC 9112 §3.2.4).
  if (c === STAR) return j + 1;
  if ((CHAR[c]! & ALPHA) === 0) return -1;
  while (j < eol && (CHAR[buf[j]!]! & ALPHA) !== 0) j++;
  if (j + 3 > eol || buf[j] !== COLON || buf[j + 1] !== SLASH || buf[j + 2] !== SLASH) return -1;
  return authorityEnd(buf, j + 3, eol);
}

/** `HTTP/1.` at `buf[v]` (the first `n` bytes of it). */
function isHttp1(buf: Buffer, v: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (buf[v + k] !== HTTP_1.charCodeAt(k)) return false;
  return true;
}

/** The request line `buf[start, eol)`: `method SP request-target SP HTTP/1.x`, exactly. */
function requestLine(buf: Buffer, start: number, eol: number): HttpParseError | undefined {
  let k = start;
  while (k < eol && (CHAR[buf[k]!]! & METHOD_CHAR) !== 0) k++;
  const method = k > start && k < eol && buf[k] === SP ? methodAt(buf, start, k - start) : undefined;
  if (method === undefined) return invalidMethod();
  const ts = k + 1;
  const te = ts < eol ? targetEnd(buf, ts, eol, method === 'CONNECT') : -1;
  if (te <= ts) return invalidTarget();
  // No version at all is HTTP/0.9, which llhttp still serves; not here.
  if (te === eol) return invalidVersion();
  if (buf[te] !== SP) return invalidTarget();
  const v = te + 1;
  if (eol - v !== 8 || !isHttp1(buf, v, 7)) {
    return eol - v >= 5 && isHttp1(buf, v, 5)
      ? invalidVersion()
      : new HttpParseError('HPE_INVALID_CONSTANT', 'expected HTTP/ after the request target');
  }
  const minor = buf[v + 7]! - 0x30;
  if (minor !== 0 && minor !== 1) return invalidVersion();
  lineMethod = method;
  lineTargetStart = ts;
  lineTargetEnd = te;
  lineMinor = minor;
  return undefined;
}

/** The Connection options this request needs (close, keep-alive, upgrade), as bits. */
function connectionOptions(value: string): number {
  switch (value) {
    case 'keep-alive':
    case 'Keep-Alive':
      return KEEP_ALIVE;
    case 'close':
    case 'Close':
      return CLOSE;
    case 'upgrade':
    case 'Upgrade':
      return UPGRADE;
  }
  let bits = 0;
  for (const part of value.toLowerCase().split(',')) {
    const t = trimOws(part);
    if (t === 'close') bits |= CLOSE;
    else if (t === 'keep-alive') bits |= KEEP_ALIVE;
    else if (t === 'upgrade') bits |= UPGRADE;
  }
  return bits;
}

function invalidValue(c: number): HttpParseError {
  return c === CR || c === LF
    ? new HttpParseError('HPE_STRICT', 'bare CR or LF in a head')
    : new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header value');
}

/**
 * The head in `buf[start, end)` just found by findHeadEnd (nothing else parsed in between): its
 * request line and framing checked, its fields taken.
 */
export function parseScannedHead(buf: Buffer, start: number, end: number): RequestHead | HttpParseError {
  const lineError = requestLine(buf, start, startLineEnd());
  if (lineError) return lineError;
  const minor = lineMinor;
  const text = buf.toString('latin1', start, end);
  const count = scannedFields();
  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding = false;
  let options = 0;
  let upgradeField = false;
  let expect = '';
  let hosts = 0;
  for (let f = 0; f < count; f++) {
    readField(text, start, f);
    const { value, start: pos, colon, valueStart: vs, valueEnd: ve, end: lineEnd } = field;
    headers.push(field.name, value);
    switch (colon - pos) {
      case 4:
        if (sameName(text, pos, 'host')) hosts++;
        break;
      case 6:
        if (sameName(text, pos, 'expect'))
          expect = expect ? `${expect}, ${value.toLowerCase()}` : value.toLowerCase();
        break;
      case 7:
        if (value !== '' && sameName(text, pos, 'upgrade')) upgradeField = true;
        break;
      case 10:
        if (sameName(text, pos, 'connection')) options |= connectionOptions(value);
        break;
      case 14: {
        if (!sameName(text, pos, 'content-length')) break;
        if (contentLength !== -1)
          return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'duplicate Content-Length');
        // llhttp refuses a tab after the digits; one before them is refused too, for symmetry.
        if (ve === vs || hasTab(text, colon + 1, vs) || hasTab(text, ve, lineEnd))
          return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
        let n = 0;
        for (let k = vs; k < ve; k++) {
          const d = text.charCodeAt(k) - 0x30;
          if (d < 0 || d > 9)
            return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
          n = n * 10 + d;
          if (n > Number.MAX_SAFE_INTEGER)
            return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length too large');
        }
        contentLength = n;
        break;
      }
      case 17:
        if (!sameName(text, pos, 'transfer-encoding')) break;
        // Only `chunked`, once: the proxy removes Transfer-Encoding (hop-by-hop), so any other coding
        // would reach the upstream undecoded and unannounced (nginx answers 501 to these).
        if (
          transferEncoding ||
          ve - vs !== 7 ||
          !sameName(value, 0, 'chunked') ||
          hasTab(text, colon + 1, lineEnd)
        )
          return new HttpParseError('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding other than chunked');
        transferEncoding = true;
        break;
    }
  }
  if (transferEncoding) {
    if (contentLength !== -1)
      return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length with Transfer-Encoding');
    // An HTTP/1.0 message with Transfer-Encoding has faulty framing (RFC 9112 §6.1).
    if (minor === 0)
      return new HttpParseError('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 request');
  }
  const close = (options & CLOSE) !== 0;
  return {
    method: lineMethod,
    target: text.slice(lineTargetStart - start, lineTargetEnd - start),
    versionMinor: minor,
    headers,
    contentLength,
    chunked: transferEncoding,
    keepAlive: minor === 1 ? !close : (options & KEEP_ALIVE) !== 0 && !close,
    // HTTP/1.0 has no Upgrade (RFC 9110 §7.8: ignored there).
    upgrade: minor === 1 && (options & UPGRADE) !== 0 && upgradeField,
    expect,
    hosts,
  };
}

/** Parse `text`: a head's bytes as latin1, from the request line up to (not including) CRLF CRLF. */
export function parseRequestHead(text: string): RequestHead | HttpParseError {
  const buf = Buffer.from(`${text}\r\n\r\n`, 'latin1');
  const end = findHeadEnd(buf, 0, buf.length);
  if (typeof end !== 'number') return end;
  // (An empty line inside the text ends the head early.)
  if (end !== text.length) return new HttpParseError('HPE_STRICT', 'an empty line inside a head');
  return parseScannedHead(buf, 0, end);
}

const enum Scan {
  Method,
  TargetStart,
  ConnectStart,
  Path,
  Star,
  Scheme,
  Slash1,
  Slash2,
  Server,
  Version,
  LineLf,
  FieldStart,
  Name,
  Value,
  ValueLf,
  EndLf,
}

/**
 * Checks a head as its bytes arrive (before its end is seen), refusing the first byte that can
 * never be part of a valid head, as llhttp does. It accepts what parseRequestHead accepts but the
 * framing rules, which wait for the whole head. One per reader, reset for each head.
 */
export class HeadScanner {
  private state = Scan.Method;
  private method = '';
  private versionAt = 0;

  reset(): void {
    this.state = Scan.Method;
    this.method = '';
    this.versionAt = 0;
  }

  /** Check `buf[from, to)`, the head's bytes following those checked before (the head starts at 0). */
  scan(buf: Buffer, from: number, to: number): HttpParseError | undefined {
    let state = this.state;
    for (let j = from; j < to; j++) {
      const c = buf[j]!;
      switch (state) {
        case Scan.Method:
          if (c === SP) {
            if (!METHOD_SET.has(this.method)) return invalidMethod();
            state = this.method === 'CONNECT' ? Scan.ConnectStart : Scan.TargetStart;
          } else if (!METHOD_PREFIXES.has((this.method += String.fromCharCode(c)))) return invalidMethod();
          break;
        case Scan.TargetStart:
          if (c === SLASH) state = Scan.Path;
          else if (c === STAR) state = Scan.Star;
          else if ((CHAR[c]! & ALPHA) !== 0) state = Scan.Scheme;
          else return invalidTarget();
          break;
        case Scan.ConnectStart:
          if (c === SLASH || c === QUESTION) state = Scan.Path;
          else if ((CHAR[c]! & SERVER) !== 0) state = Scan.Server;
          else return invalidTarget();
          break;
        case Scan.Path:
          if (c === SP) state = Scan.Version;
          else if ((CHAR[c]! & VCHAR) === 0) return invalidTarget();
          break;
        case Scan.Star:
          if (c !== SP) return invalidTarget();
          state = Scan.Version;
          break;
        case Scan.Scheme:
          if (c === COLON) state = Scan.Slash1;
          else if ((CHAR[c]! & ALPHA) === 0) return invalidTarget();
          break;
        case Scan.Slash1:
        case Scan.Slash2:
          if (c !== SLASH) return invalidTarget();
          state = state === Scan.Slash1 ? Scan.Slash2 : Scan.Server;
          break;
        case Scan.Server:
          if (c === SP) state = Scan.Version;
          else if (c === SLASH || c === QUESTION) state = Scan.Path;
          else if ((CHAR[c]! & SERVER) === 0) return invalidTarget();
          break;
        case Scan.Version: {
          const at = this.versionAt++;
          if (at < HTTP_1.length) {
            if (c !== HTTP_1.charCodeAt(at))
              return at < 5
                ? new HttpParseError('HPE_INVALID_CONSTANT', 'expected HTTP/ after the request target')
                : invalidVersion();
          } else if (at === HTTP_1.length) {
            if (c !== 0x30 && c !== 0x31) return invalidVersion();
          } else if (c === CR) state = Scan.LineLf;
          else return invalidVersion();
          break;
        }
        case Scan.LineLf: {
          if (c !== LF) return new HttpParseError('HPE_STRICT', 'expected LF after the request line');
          // The whole line, checked as parseScannedHead will (the states above follow the same rules).
          const err = requestLine(buf, 0, j - 1);
          if (err) return err;
          state = Scan.FieldStart;
          break;
        }
        case Scan.FieldStart:
          if (c === CR) state = Scan.EndLf;
          else if ((CHAR[c]! & TOKEN) !== 0) state = Scan.Name;
          else return scanError(c === SP || c === HTAB ? OBS_FOLD : BAD_NAME);
          break;
        case Scan.Name:
          if (c === COLON) state = Scan.Value;
          else if ((CHAR[c]! & TOKEN) === 0)
            return new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header field name');
          break;
        case Scan.Value:
          if (c === CR) state = Scan.ValueLf;
          else if ((c < SP && c !== HTAB) || c === 0x7f) return invalidValue(c);
          break;
        case Scan.ValueLf:
        case Scan.EndLf:
          if (c !== LF) return new HttpParseError('HPE_STRICT', 'bare CR in a head');
          state = Scan.FieldStart;
          break;
      }
    }
    this.state = state;
    return undefined;
  }
}
