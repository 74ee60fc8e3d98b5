// The suite's node:http client: one request, reporting how the response ended: completely ('end'
// with the framing honoured) or cut ('aborted'/error after the head), so a truncated body never
// looks complete.
import http from 'node:http';
import https from 'node:https';

export interface ClientOutcome {
  /** Status of the response head, or undefined when the connection failed before any head. */
  status: number | undefined;
  /** The reason phrase of the status line. */
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  /** The body as latin1 (one character per byte), and as UTF-8 text. */
  body: string;
  text: string;
  /** The body ended cleanly according to its framing. */
  complete: boolean;
  /** Error code when the request or the response failed. */
  error: string | undefined;
  /** The request went out on a kept-alive connection used before (a failure there may be a stale connection). */
  reused: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Default false: a new connection per request. */
  agent?: http.Agent | false;
  /** For an `https:` URL: the trust and client-certificate options of node:https. */
  tls?: Pick<https.RequestOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;
}

/** One HTTP/1.1 request to `url` (http: or https:), or to 127.0.0.1:`port` for `path`. Never
 *  rejects: a failure is in `error`, and a cut response has `complete: false`. */
export function request(url: string, opts?: RequestOptions): Promise<ClientOutcome>;
export function request(port: number, path: string, opts?: RequestOptions): Promise<ClientOutcome>;
export function request(
  target: string | number,
  pathOrOpts?: string | RequestOptions,
  maybeOpts: RequestOptions = {},
): Promise<ClientOutcome> {
  const url = typeof target === 'string' ? new URL(target) : undefined;
  const secure = url?.protocol === 'https:';
  const port = url ? Number(url.port || (secure ? 443 : 80)) : (target as number);
  const path = url ? url.pathname + url.search : (pathOrOpts as string);
  const opts = (url ? pathOrOpts : maybeOpts) as RequestOptions | undefined;
  return send(url?.hostname ?? '127.0.0.1', port, path, opts ?? {}, secure);
}

function send(
  host: string,
  port: number,
  path: string,
  opts: RequestOptions,
  secure = false,
): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const out: ClientOutcome = {
      status: undefined,
      statusMessage: '',
      headers: {},
      rawHeaders: [],
      body: '',
      text: '',
      complete: false,
      error: undefined,
      reused: false,
    };
    const done = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.reused = req.reusedSocket;
      if (error && !out.error) out.error = error;
      resolve(out);
    };
    const timer = setTimeout(() => {
      req.destroy();
      done('client_timeout');
    }, opts.timeoutMs ?? 10_000);
    const req = (secure ? https : http).request(
      {
        host,
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
        ...(secure ? opts.tls : {}),
      },
      (res) => {
        out.status = res.statusCode;
        out.statusMessage = res.statusMessage ?? '';
        out.headers = res.headers;
        out.rawHeaders = res.rawHeaders;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('aborted', () => done('aborted'));
        res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          out.body = bytes.toString('latin1');
          out.text = bytes.toString();
          out.complete = res.complete;
          done();
        });
        res.on('close', () => {
          out.body ||= Buffer.concat(chunks).toString('latin1');
          out.text ||= Buffer.concat(chunks).toString();
          done(res.complete ? undefined : 'closed');
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    req.end(opts.body);
  });
}
