// A node:http client that reports how a response ended: completely ('end' with the framing honoured)
// or cut ('aborted'/error after the head). Used to prove a truncated body never looks complete.
import http from 'node:http';

export interface ClientOutcome {
  /** Status of the response head, or undefined when the connection failed before any head. */
  status: number | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body ended cleanly according to its framing. */
  complete: boolean;
  /** Error code when the request or the response failed. */
  error: string | undefined;
  /** The request went out on a kept-alive connection used before (a failure there may be a stale connection). */
  reused: boolean;
}

export function request(
  port: number,
  path: string,
  opts: {
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string | Buffer;
    timeoutMs?: number;
    agent?: http.Agent | false;
  } = {},
): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const out: ClientOutcome = {
      status: undefined,
      headers: {},
      body: '',
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
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        out.status = res.statusCode;
        out.headers = res.headers;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('aborted', () => done('aborted'));
        res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
        res.on('end', () => {
          out.body = Buffer.concat(chunks).toString('latin1');
          out.complete = res.complete;
          done();
        });
        res.on('close', () => {
          out.body ||= Buffer.concat(chunks).toString('latin1');
          done(res.complete ? undefined : 'closed');
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    req.end(opts.body);
  });
}
