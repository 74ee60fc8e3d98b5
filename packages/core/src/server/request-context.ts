// Per-request state: one object per request, holding what routing and templates read. Fields are
// plain and set once where possible so V8 keeps one hidden class.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { CompiledRoute, CompiledServer, Snapshot } from '../config/compile.js';
import type { RewritableSource } from '../routing/statements.js';
import { escapedClientCertificate } from '../tls/client-certificate.js';
import { H1Request } from './h1/request.js';

export type ClientRequest = IncomingMessage | Http2ServerRequest;
export type ClientResponse = ServerResponse | Http2ServerResponse;

/** One request field (`name` lower-case) as `req.headers[name]` holds it, a list joined by ", ".
 *  Our HTTP/1.1 requests read their field list while that object is not built. */
export function requestField(req: ClientRequest, name: string): string | undefined {
  if (req instanceof H1Request) return req.field(name);
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class RequestContext implements RewritableSource {
  readonly start = performance.now();
  method: string;
  requestUri: string;
  uri = '/';
  args = '';
  hasQuery = false;
  rewritten = false;
  /** Raw path with dot segments removed (base-path targets). */
  cleanPath = '/';
  host: string;
  scheme: string;
  remoteAddr: string;
  serverName = '';
  captures: RegExpExecArray | null = null;
  vars: Map<string, string> | null = null;
  mapValues: (string | undefined)[] | null = null;
  upstreamHeaders: IncomingHttpHeaders | null = null;
  route: CompiledRoute | undefined = undefined;
  server: CompiledServer | undefined = undefined;
  /** Set when the request arrived through an internal redirect or subrequest. */
  internal = false;
  /** Upstream origin used, for the access log. */
  upstream = '';
  /** Error code recorded for the access log. */
  error = '';
  /** Status finally sent. */
  status = 0;
  /** Request fields not forwarded because their names contain `_` (counted in metrics). */
  droppedFields = 0;
  /** Bytes this request moved on its HTTP/1 connection (set when it finishes). */
  bytesIn = 0;
  bytesOut = 0;
  /** The plugin exchange of this request, told when the client response closes. */
  plugins: { responseClosed(): void } | undefined = undefined;
  /** Told when the client connection closes before the exchange finished (the upstream is aborted). */
  onClientClose: { clientClosed(): void } | undefined = undefined;
  /** The engine's handler for the end of the client response (one function per engine). */
  onResponseClosed: ((ctx: RequestContext) => void) | undefined = undefined;
  private port: string | undefined = undefined;

  constructor(
    readonly snapshot: Snapshot,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    readonly tls: boolean,
  ) {
    this.method = req.method ?? 'GET';
    this.requestUri = req.url ?? '/';
    this.scheme = tls ? 'https' : 'http';
    this.remoteAddr = req.socket?.remoteAddress ?? '';
    this.host = '';
  }

  /** node's headers object (our HTTP/1.1 requests build it on first use: the engine's own path
   *  reads fields with header()). */
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  header(name: string): string | undefined {
    return requestField(this.req, name);
  }

  get serverPort(): string {
    return (this.port ??= String(this.req.socket?.localPort ?? ''));
  }

  /** The client response closed, completed or not. */
  responseClosed(): void {
    this.onResponseClosed?.(this);
    this.plugins?.responseClosed();
  }

  clientCertEscaped(): string {
    return this.tls ? escapedClientCertificate(this.req.socket as TLSSocket) : '';
  }
}
