// WebSocket messages through the proxy (scripts/ws-load.mjs, npm `ws`): round trips per second.
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../proc/registry.js';
import type { LoadResult } from './types.js';

const script = fileURLToPath(new URL('./scripts/ws-load.mjs', import.meta.url));

export async function runWsLoad(
  url: string,
  connections: number,
  seconds: number,
  messageBytes: number,
): Promise<LoadResult> {
  const r = await runToEnd(
    'ws-load',
    process.execPath,
    [script, url, String(connections), String(seconds), String(messageBytes)],
    'load',
    (seconds + 20) * 1000,
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`ws load failed (${r.code}): ${r.stderr.trim().slice(-300)}`);
  const j = JSON.parse(line) as {
    messages: number;
    seconds: number;
    p50Ms: number | null;
    p99Ms: number | null;
    errors: number;
  };
  if (j.messages === 0) throw new Error(`no WebSocket message came back (${j.errors} connection errors)`);
  return {
    requests: j.messages,
    seconds: j.seconds,
    bytesPerSecond: (j.messages * messageBytes) / j.seconds,
    ...(j.p50Ms !== null ? { p50Ms: j.p50Ms } : {}),
    ...(j.p99Ms !== null ? { p99Ms: j.p99Ms } : {}),
    errors: j.errors,
  };
}
