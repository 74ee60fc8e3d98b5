// A response head (status line and header fields, without the final empty line), parsed strictly:
// what llhttp refuses without lenient flags is refused here too (tests compare the two on the same
// bytes), and the framing fields are interpreted once. The bytes are checked by the scan both head
// parsers share (head-scan.ts); this file reads the status line and the fields it found.
import {
  CHAR,
  field,
  readField,
  FIELD_TEXT,
  sameName,
  scannedFields,
  SP,
  startLineEnd,
} from './head-scan.js';
import { HttpParseError, lastToken, listsToken } from './syntax.js';

export interface ResponseHead {
  status: number;
  reason: string;
  /** [name, value, …] as received (names keep their case; values without surrounding whitespace). */
  headers: string[];
  /** The Content-Length, or -1 when there is none. */
  contentLength: number;
  /** Transfer-Encoding is present. */
  transferEncoding: boolean;
  /** …and its last coding is chunked. */
  chunked: boolean;
  /** The connection may carry another exchange (version and Connection field; framing aside). */
  keepAlive: boolean;
}

const HTTP_1 = 'HTTP/1.';

/** What statusLine leaves (parsing is synchronous: no object per response). */
let lineStatus = 0;
let lineMinor = 0;

/** The status line `buf[start, eol)`: `HTTP/1.x SP 3DIGIT [SP reason]`, exactly. */
function statusLine(buf: Buffer, start: number, eol: number): HttpParseError | undefined {
  let http = eol - start >= 12;
  for (let k = 0; http && k < HTTP_1.length; k++) http = buf[start + k] === HTTP_1.charCodeAt(k);
  const minor = buf[start + 7]! - 0x30;
  const d1 = buf[start + 9]! - 0x30;
  const d2 = buf[start + 10]! - 0x30;
  const d3 = buf[start + 11]! - 0x30;
  let ok =
    http &&
    (minor === 0 || minor === 1) &&
    buf[start + 8] === SP &&
    d1 >= 0 &&
    d1 <= 9 &&
    d2 >= 0 &&
    d2 <= 9 &&
    d3 >= 0 &&
    d3 <= 9 &&
    (eol === start + 12 || buf[start + 12] === SP);
  for (let k = start + 13; ok && k < eol; k++) ok = (CHAR[buf[k]!]! & FIELD_TEXT) !== 0;
  if (!ok) {
    let prefix = eol - start >= 5;
    for (let k = 0; prefix && k < 5; k++) prefix = buf[start + k] === HTTP_1.charCodeAt(k);
    return prefix
      ? new HttpParseError('HPE_INVALID_STATUS', 'invalid status line')
      : new HttpParseError('HPE_INVALID_CONSTANT', 'not an HTTP/1.x response');
  }
  const status = d1 * 100 + d2 * 10 + d3;
  // RFC 9110 §15: values outside 100..599 are invalid (llhttp lets them pass).
  if (status < 100 || status > 599) return new HttpParseError('HPE_INVALID_STATUS', 'invalid status code');
  // HTTP/1.0 has no interim responses (RFC 9110 §15.2); llhttp refuses them too.
  if (status < 200 && minor === 0)
    return new HttpParseError('HPE_INVALID_STATUS', 'an interim response in HTTP/1.0');
  lineStatus = status;
  lineMinor = minor;
  return undefined;
}

/**
 * The head in `buf[start, end)` just found by findHeadEnd (nothing else scanned in between): its
 * status line and framing checked, its fields taken.
 */
export function parseScannedResponseHead(
  buf: Buffer,
  start: number,
  end: number,
): ResponseHead | HttpParseError {
  const eol = startLineEnd();
  const lineError = statusLine(buf, start, eol);
  if (lineError) return lineError;
  const status = lineStatus;
  const minor = lineMinor;
  const text = buf.toString('latin1', start, end);
  const count = scannedFields();
  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding = false;
  let chunked = false;
  let close = false;
  let keepAliveToken = false;
  for (let f = 0; f < count; f++) {
    readField(text, start, f);
    const value = field.value;
    headers.push(field.name, value);
    const pos = field.start;
    switch (field.colon - pos) {
      case 14: {
        if (!sameName(text, pos, 'content-length')) break;
        if (contentLength !== -1)
          return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'duplicate Content-Length');
        if (value === '') return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
        let n = 0;
        for (let k = 0; k < value.length; k++) {
          const d = value.charCodeAt(k) - 0x30;
          if (d < 0 || d > 9)
            return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
          n = n * 10 + d;
        }
        if (!Number.isSafeInteger(n))
          return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length too large');
        contentLength = n;
        break;
      }
      case 17:
        if (!sameName(text, pos, 'transfer-encoding')) break;
        transferEncoding = true;
        // The last coding decides; a later Transfer-Encoding line continues the list.
        chunked = lastToken(value) === 'chunked';
        break;
      case 10:
        if (!sameName(text, pos, 'connection')) break;
        if (listsToken(value, 'close')) close = true;
        else if (listsToken(value, 'keep-alive')) keepAliveToken = true;
        break;
    }
  }
  if (transferEncoding && contentLength !== -1)
    return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length with Transfer-Encoding');
  return {
    status,
    reason: eol - start > 13 ? text.slice(13, eol - start) : '',
    headers,
    contentLength,
    transferEncoding,
    chunked,
    keepAlive: minor === 1 ? !close : keepAliveToken && !close,
  };
}
