// The idle-connection scenario: open N keep-alive connections through the proxy and hold them.
import { fileURLToPath } from 'node:url';
import { start, stop, isAlive } from '../proc/registry.js';

const script = fileURLToPath(new URL('./scripts/idle-clients.mjs', import.meta.url));

export interface IdleHold {
  open: number;
  failed: number;
  release: () => Promise<void>;
}

/** Resolves once every connection has settled (or `timeoutMs` passed); the caller measures, then releases. */
export async function holdIdleConnections(
  port: number,
  count: number,
  path: string,
  timeoutMs: number,
): Promise<IdleHold> {
  const holdSeconds = Math.ceil(timeoutMs / 1000) + 30;
  const proc = start(
    'idle-clients',
    process.execPath,
    [script, String(port), String(count), String(holdSeconds), path],
    'load',
    {
      nofile: count + 1000,
    },
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(proc)) {
    const line = proc
      .stdout()
      .split('\n')
      .find((l) => l.startsWith('{'));
    if (line) {
      const r = JSON.parse(line) as { open: number; failed: number };
      return { ...r, release: () => stop(proc) };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop(proc);
  throw new Error(`idle clients did not settle within ${timeoutMs} ms: ${proc.stderr().slice(-300)}`);
}
