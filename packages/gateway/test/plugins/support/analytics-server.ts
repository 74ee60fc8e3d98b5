// An Edge-like analytics sink on 127.0.0.1: collects posted records; can answer 500 or reject some.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnalyticsSink {
  readonly url: string;
  readonly records: Array<Record<string, unknown>>;
  posts: number;
  authorization: string | undefined;
  /** Answer 500 to the next n posts. */
  failNext: number;
  /** Answer {"rejected": n} to the next post (then 0). */
  rejectNext: number;
  close(): Promise<void>;
}

export async function startAnalyticsSink(): Promise<AnalyticsSink> {
  const sink: AnalyticsSink = {
    url: '',
    records: [],
    posts: 0,
    authorization: undefined,
    failNext: 0,
    rejectNext: 0,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      sink.posts++;
      sink.authorization = req.headers.authorization;
      if (sink.failNext > 0) {
        sink.failNext--;
        res.writeHead(500);
        return void res.end();
      }
      const { records } = JSON.parse(Buffer.concat(chunks).toString()) as {
        records: Array<Record<string, unknown>>;
      };
      const rejected = Math.min(sink.rejectNext, records.length);
      sink.rejectNext = 0;
      sink.records.push(...records.slice(0, records.length - rejected));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: records.length - rejected, rejected }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (sink as { url: string }).url =
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/edgemicro/axpublisher/organization/org/environment/test`;
  return sink;
}
