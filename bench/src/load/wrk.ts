// wrk (Debian 4.1.0): one thread on the load core, `--latency` for the percentiles.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from '../proc/registry.js';
import type { LoadResult } from './types.js';
import { durationToMs, sizeToBytes } from './units.js';

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: string[];
  /** POST a body of this many bytes (written as a wrk Lua script into `dir`). */
  postBytes?: number;
  dir: string;
}

export function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/.exec(out);
  if (!total) throw new Error(`unexpected wrk output: ${out.slice(0, 400)}`);
  const seconds = durationToMs(total[2]!) / 1000;
  const pct = (p: string): number | undefined => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)`, 'm').exec(out);
    return m ? durationToMs(m[1]!) : undefined;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  // With `Connection: close` the server's orderly close is counted as a read error by wrk; those are
  // not failures, so read errors are left out of the error count.
  const errors =
    (sock ? Number(sock[1]) + Number(sock[3]) + Number(sock[4]) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const p50 = pct('50');
  const p99 = pct('99');
  return {
    requests: Number(total[1]),
    seconds,
    bytesPerSecond: sizeToBytes(total[3]!) / seconds,
    ...(p50 !== undefined ? { p50Ms: p50 } : {}),
    ...(p99 !== undefined ? { p99Ms: p99 } : {}),
    errors,
  };
}

export async function runWrk(o: WrkOptions): Promise<LoadResult> {
  const args = [
    '-t',
    '1',
    '-c',
    String(o.connections),
    '-d',
    `${o.seconds}s`,
    '--latency',
    '--timeout',
    '10s',
  ];
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.postBytes !== undefined) {
    const script = join(o.dir, `post-${o.postBytes}.lua`);
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = string.rep("x", ${o.postBytes})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
    );
    args.push('-s', script);
  }
  args.push(o.url);
  const r = await runToEnd('wrk', 'wrk', args, 'load', (o.seconds + 15) * 1000);
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}
