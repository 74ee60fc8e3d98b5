// h2load (nghttp2 1.52) for HTTP/2 over TLS (ALPN h2). It prints mean latency, not percentiles.
import { runToEnd } from '../proc/registry.js';
import type { LoadResult } from './types.js';
import { durationToMs, sizeToBytes } from './units.js';

export interface H2loadOptions {
  url: string;
  clients: number;
  streams: number;
  seconds: number;
}

export function parseH2load(out: string): LoadResult {
  const fin = /finished in ([\d.]+\w+), ([\d.]+) req\/s, ([\d.]+\w+)\/s/.exec(out);
  const req =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  if (!fin || !req) throw new Error(`unexpected h2load output: ${out.slice(0, 400)}`);
  const seconds = durationToMs(fin[1]!) / 1000;
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const bad = status ? Number(status[3]) + Number(status[4]) : 0;
  return {
    requests: Number(req[4]),
    seconds,
    bytesPerSecond: sizeToBytes(fin[3]!),
    errors: Number(req[5]) + Number(req[6]) + Number(req[7]) + bad,
  };
}

export async function runH2load(o: H2loadOptions): Promise<LoadResult> {
  const args = ['-t', '1', '-c', String(o.clients), '-m', String(o.streams), '-D', String(o.seconds), o.url];
  const r = await runToEnd('h2load', 'h2load', args, 'load', (o.seconds + 15) * 1000);
  if (r.code !== 0) throw new Error(`h2load exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseH2load(r.stdout);
}
