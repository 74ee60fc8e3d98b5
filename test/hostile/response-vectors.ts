// Defective upstream responses. The engine must never relay them as they are: before the response
// head went out the client gets a 502 JSON error; once it went out the client connection is cut, so
// a truncated body can never look complete. `when` says which of the two the engine must do.

export interface ResponseVector {
  name: string;
  /** Bytes the upstream writes once it has read the request head. */
  bytes: string;
  /** What the upstream does after writing: keep the socket, end it (FIN) or destroy it (RST). */
  then: 'keep' | 'end' | 'destroy';
  /** `head`: the defect is in the head → 502 JSON. `body`: the head was valid → cut connection. */
  when: 'head' | 'body';
  /** nginx 1.22.1 proxying the same response: the status it gives the client (undefined: no valid
   *  response at all), and whether the body it relays is complete by its framing. */
  nginx: { status: number | undefined; complete: boolean };
}

const OK = 'HTTP/1.1 200 OK\r\n';

export const RESPONSE_VECTORS: ResponseVector[] = [
  {
    name: 'Content-Length and Transfer-Encoding together',
    bytes: `${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    then: 'keep',
    when: 'head',
    nginx: { status: 200, complete: true },
  },
  {
    name: 'conflicting Content-Length',
    bytes: `${OK}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    then: 'keep',
    when: 'head',
    nginx: { status: 200, complete: true },
  },
  {
    name: 'duplicate identical Content-Length',
    bytes: `${OK}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: 200, complete: true },
  },
  {
    name: 'comma-joined Content-Length',
    bytes: `${OK}Content-Length: 5, 5\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: 200, complete: false },
  },
  {
    name: 'negative Content-Length',
    bytes: `${OK}Content-Length: -1\r\n\r\nhello`,
    then: 'end',
    when: 'head',
    nginx: { status: 200, complete: true },
  },
  {
    name: 'obs-fold in a response header',
    bytes: `${OK}Content-Length: 5\r\nX-Folded: a\r\n b\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: 502, complete: true },
  },
  {
    name: 'space between header name and colon',
    bytes: `${OK}Content-Length : 5\r\n\r\nhello`,
    then: 'end',
    when: 'head',
    nginx: { status: 502, complete: true },
  },
  {
    name: 'NUL in a response header value',
    bytes: `${OK}Content-Length: 5\r\nX-Nul: a\x00b\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: 502, complete: true },
  },
  {
    name: 'bare CR in a response header value',
    bytes: `${OK}Content-Length: 5\r\nX-Cr: a\rb\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: 502, complete: true },
  },
  {
    name: 'invalid status line',
    bytes: `HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello`,
    then: 'keep',
    when: 'head',
    nginx: { status: undefined, complete: false },
  },
  {
    name: 'not HTTP at all',
    bytes: `SSH-2.0-OpenSSH_9.2\r\n\r\n`,
    then: 'keep',
    when: 'head',
    nginx: { status: undefined, complete: false },
  },
  {
    name: 'head cut in the middle',
    bytes: `${OK}Content-Length: 5\r\nX-Par`,
    then: 'end',
    when: 'head',
    nginx: { status: 502, complete: true },
  },
  {
    name: 'invalid chunk size after a valid head',
    bytes: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n`,
    then: 'keep',
    when: 'body',
    nginx: { status: undefined, complete: false },
  },
  {
    name: 'chunk longer than its size',
    bytes: `${OK}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
    then: 'keep',
    when: 'body',
    nginx: { status: undefined, complete: false },
  },
  {
    name: 'chunked body without the last chunk, then FIN',
    bytes: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`,
    then: 'end',
    when: 'body',
    nginx: { status: 200, complete: false },
  },
  {
    name: 'Content-Length body truncated, then FIN',
    bytes: `${OK}Content-Length: 100\r\n\r\nonly part of it`,
    then: 'end',
    when: 'body',
    nginx: { status: 200, complete: false },
  },
  {
    name: 'Content-Length body truncated, then RST',
    bytes: `${OK}Content-Length: 100\r\n\r\nonly part of it`,
    then: 'destroy',
    when: 'body',
    nginx: { status: 200, complete: false },
  },
];
