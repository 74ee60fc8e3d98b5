// Malformed and ambiguous HTTP/1.1 requests (smuggling vectors), sent byte-exact over raw sockets.
// `engine` is what Gatehouse must do; `nginx` is what Debian nginx 1.22.1 does with the same bytes
// (checked by request-smuggling.test.ts when nginx is installed). README.md explains each difference.

export interface RequestVector {
  name: string;
  bytes: string;
  /** Gatehouse: the status it answers and whether it must close the connection. */
  engine: { status: number; closed: true };
  /** Set when the engine rejects safely (connection closed, nothing forwarded) but without the 400 JSON answer. */
  gap?: string;
  /** nginx 1.22.1 (proxying to the same kind of upstream): the first status, or 'reset' when it closes without answering. */
  nginx: number | 'reset';
}

const H = 'Host: example.test\r\n';

// Known gaps (see README.md, "Findings"): node's parser fails these only after the request head was
// handed to the engine, and the listener's clientError handler then destroys the socket silently.

export const REQUEST_VECTORS: RequestVector[] = [
  {
    name: 'CL.TE: Content-Length and Transfer-Encoding together',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'TE.CL: Transfer-Encoding before Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'duplicate identical Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'conflicting Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'comma-joined Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'signed Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'negative Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'hex Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'obs-fold continuation line',
    bytes: `GET / HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'obs-fold of Transfer-Encoding',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'invalid chunk size (non-hex)',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'chunk size with 0x prefix',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'negative chunk size',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'chunk size overflowing 64 bits',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'chunk data longer than its size',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'chunk extension with a control character',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\x01b\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'chunk extension with a bare LF (chunk-ext smuggling)',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\nx\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'bare LF line endings in the head',
    bytes: `GET / HTTP/1.1\n${H.replace('\r\n', '\n')}\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'bare LF after a header line',
    bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'bare LF after the chunk size',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'space between header name and colon',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'space inside a header name',
    bytes: `GET / HTTP/1.1\r\n${H}X Bad: 1\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'Transfer-Encoding: chunked, identity',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 501,
  },
  {
    name: 'Transfer-Encoding: identity only',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello`,
    engine: { status: 400, closed: true },
    nginx: 501,
  },
  {
    name: 'Transfer-Encoding: xchunked',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 501,
  },
  {
    name: 'NUL in a header value',
    bytes: `GET / HTTP/1.1\r\n${H}X-Nul: a\x00b\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'bare CR in a header value',
    bytes: `GET / HTTP/1.1\r\n${H}X-Cr: a\rb\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'duplicate Host',
    bytes: `GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'missing Host on HTTP/1.1',
    bytes: `GET / HTTP/1.1\r\nX-A: 1\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'Host with a path',
    bytes: `GET / HTTP/1.1\r\nHost: a.test/evil\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'Host with userinfo',
    bytes: `GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'absolute-form target with userinfo',
    bytes: `GET http://user@a.test/ HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'absolute-form target with a non-http scheme',
    bytes: `GET ftp://a.test/ HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'authority-form target on GET',
    bytes: `GET a.test:80 HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'CONNECT (authority form)',
    bytes: `CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'HTTP/1.2',
    bytes: `GET / HTTP/1.2\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 200,
  },
  {
    name: 'HTTP/3.0 on an HTTP/1 connection',
    bytes: `GET / HTTP/3.0\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 505,
  },
  {
    name: 'space in the request target',
    bytes: `GET /a b HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'encoded NUL in the path',
    bytes: `GET /a%00b HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'malformed percent-encoding in the path',
    bytes: `GET /a%zz HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'encoded slash next to a dot segment',
    bytes: `GET /a/..%2F..%2Fetc HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
  {
    name: 'method with a control character',
    bytes: `G\x01T / HTTP/1.1\r\n${H}\r\n`,
    engine: { status: 400, closed: true },
    nginx: 400,
  },
];
