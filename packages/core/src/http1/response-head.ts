// A response head (status line and header fields, without the final empty line), parsed strictly:
// what llhttp refuses without lenient flags is refused here too (tests compare the two on the same
// bytes), and the framing fields are interpreted once.
import { checkHeadText, DIGITS, HttpParseError, lastToken, listsToken, parseFieldLines } from './syntax.js';

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

const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** Parse `text`: the head's bytes as latin1, up to (not including) the CRLF CRLF that ends it. */
export function parseResponseHead(text: string): ResponseHead | HttpParseError {
  let eol = text.indexOf('\r\n');
  if (eol === -1) eol = text.length;
  const m = STATUS_LINE.exec(eol === text.length ? text : text.slice(0, eol));
  if (m === null) {
    return text.startsWith('HTTP/')
      ? new HttpParseError('HPE_INVALID_STATUS', 'invalid status line')
      : new HttpParseError('HPE_INVALID_CONSTANT', 'not an HTTP/1.x response');
  }
  const status = Number(m[2]);
  // RFC 9110 §15: values outside 100..599 are invalid (llhttp lets them pass).
  if (status < 100 || status > 599) return new HttpParseError('HPE_INVALID_STATUS', 'invalid status code');
  // HTTP/1.0 has no interim responses (RFC 9110 §15.2); llhttp refuses them too.
  if (status < 200 && m[1] === '0')
    return new HttpParseError('HPE_INVALID_STATUS', 'an interim response in HTTP/1.0');
  const bad = checkHeadText(text);
  if (bad) return bad;
  const headers: string[] = [];
  const err = parseFieldLines(text, eol + 2, headers);
  if (err) return err;
  let contentLength = -1;
  let transferEncoding = false;
  let chunked = false;
  let close = false;
  let keepAliveToken = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    switch (name.length) {
      case 14:
        if (name !== 'Content-Length' && name.toLowerCase() !== 'content-length') break;
        if (contentLength !== -1)
          return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'duplicate Content-Length');
        if (!DIGITS.test(value))
          return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
        contentLength = Number(value);
        if (!Number.isSafeInteger(contentLength))
          return new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length too large');
        break;
      case 17:
        if (name !== 'Transfer-Encoding' && name.toLowerCase() !== 'transfer-encoding') break;
        transferEncoding = true;
        // The last coding decides; a later Transfer-Encoding line continues the list.
        chunked = lastToken(value) === 'chunked';
        break;
      case 10:
        if (name !== 'Connection' && name.toLowerCase() !== 'connection') break;
        if (listsToken(value, 'close')) close = true;
        else if (listsToken(value, 'keep-alive')) keepAliveToken = true;
        break;
    }
  }
  if (transferEncoding && contentLength !== -1)
    return new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length with Transfer-Encoding');
  return {
    status,
    reason: m[3] ?? '',
    headers,
    contentLength,
    transferEncoding,
    chunked,
    keepAlive: m[1] === '1' ? !close : keepAliveToken && !close,
  };
}
