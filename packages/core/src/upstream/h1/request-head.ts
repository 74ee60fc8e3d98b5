// The head of a request to an upstream, serialised into one buffer. The method, target and fields
// may come from a rewrite or a plugin: anything that would split the head is refused.
import type { UpstreamRequest } from '../dispatcher.js';
import { CHAR, FIELD_TEXT, isToken, sameName, TOKEN } from '../../http1/head-scan.js';
import { putLatin1 } from '../../http1/latin1.js';
import { DIGITS, TARGET } from '../../http1/syntax.js';
import { UpstreamRequestError } from '../../errors/upstream.js';

/** How a streamed request body is framed: its Content-Length (-1: none), or chunked. */
export interface BodyFraming {
  expected: number;
  chunked: boolean;
}

const NOT_FIELD_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/** Copy `text` into `buf` at `at` if each of its characters is in `cls`; returns where it ends, or
 *  -1. Checked while copied: one pass over the characters instead of two. */
function putChecked(buf: Buffer, at: number, text: string, cls: number): number {
  const n = text.length;
  // A long value: the regular expression and the native copy beat a loop over its characters.
  if (n > 64 && cls === FIELD_TEXT)
    return NOT_FIELD_TEXT.test(text) ? -1 : at + buf.write(text, at, 'latin1');
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c > 0xff || (CHAR[c]! & cls) === 0) return -1;
    buf[at + k] = c;
  }
  return at + n;
}

function invalidField(name: string): UpstreamRequestError {
  return new UpstreamRequestError('UPSTREAM_INVALID_REQUEST', `invalid header field "${name.slice(0, 40)}"`);
}

/** Build the request head, or the error a field that would split the head is. Two passes over the
 *  fields: the first measures the head, the second checks each field while it writes it into one
 *  buffer. `framing` is set for a streamed body. */
export function requestHead(req: UpstreamRequest, framing: BodyFraming): Buffer | UpstreamRequestError {
  const h = req.headers;
  const body = req.body;
  const whole = typeof body === 'string' || Buffer.isBuffer(body);
  // The target and method may come from a rewrite or a plugin (req.targetPath): never let them split the line.
  if (!isToken(req.method) || !TARGET.test(req.path)) {
    return new UpstreamRequestError('UPSTREAM_INVALID_REQUEST', 'invalid method or request target');
  }
  // `${method} ${path} HTTP/1.1\r\n`, the fields, then the final CRLF.
  let n = req.method.length + req.path.length + 12 + 2;
  let length = -1;
  let hasConnection = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (name.length === 14 && sameName(name, 0, 'content-length')) {
      if (whole) continue; // the body's real length is written below
      if (!DIGITS.test(value) || value.length > 15) {
        return new UpstreamRequestError('UPSTREAM_INVALID_REQUEST', 'invalid Content-Length');
      }
      length = Number(value);
    } else if (name.length === 10 && sameName(name, 0, 'connection')) hasConnection = true;
    n += name.length + value.length + 4;
  }
  let extra = '';
  if (whole) extra = `content-length: ${Buffer.byteLength(body)}\r\n`;
  else if (body !== null && body !== undefined) {
    framing.expected = length;
    framing.chunked = length < 0;
    if (framing.chunked) extra = 'transfer-encoding: chunked\r\n';
  }
  if (req.upgrade) extra += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
  else if (req.reset && !hasConnection) extra += 'connection: close\r\n';
  const buf = Buffer.allocUnsafe(n + extra.length);
  let at = putLatin1(buf, 0, req.method);
  buf[at++] = 0x20;
  at = putLatin1(buf, at, req.path);
  at = putLatin1(buf, at, ' HTTP/1.1\r\n');
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (whole && name.length === 14 && sameName(name, 0, 'content-length')) continue;
    at = name.length === 0 ? -1 : putChecked(buf, at, name, TOKEN);
    if (at < 0) return invalidField(name);
    buf[at++] = 0x3a;
    buf[at++] = 0x20;
    at = putChecked(buf, at, h[i + 1]!, FIELD_TEXT);
    if (at < 0) return invalidField(name);
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
  }
  at = putLatin1(buf, at, extra);
  buf[at++] = 0x0d;
  buf[at] = 0x0a;
  return buf;
}
