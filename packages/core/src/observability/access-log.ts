// The access log: one JSON line per finished request, to stdout, a stream, or a 0600 file.
// Secrets in query strings are scrubbed; headers are never logged.
//
// The line format is pino's with base null, an ISO time and `log: "access"` in place of the level,
// written by the engine's own writer (./logger.ts says why). The destinations: an asynchronous
// sonic-boom on the file (created 0600, directories made) or on fd 1.
import type { SonicBoom } from 'sonic-boom';
import { asString, buildSafeSonicBoom, scrubTarget } from './logger.js';

/** What one line tells of a finished request (the engine's request context has these). */
interface AccessRecord {
  readonly remoteAddr: string;
  readonly method: string;
  readonly requestUri: string;
  readonly status: number;
  readonly route: { readonly name: string } | undefined;
  readonly server: { readonly name: string } | undefined;
  readonly upstream: string;
  /** When the request began (`performance.now()`). */
  readonly start: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly error: string;
}

export interface AccessLog {
  /** What this log writes to (`true` = stdout or the engine's stream, a string = a file). */
  readonly target: true | string;
  write(ctx: AccessRecord): void;
  /** Flush and release the file (a no-op for stdout and caller-owned streams). */
  close(): void;
}

/** A top-level field's JSON (non-finite numbers as null); undefined: left out. */
function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'string':
      return asString(value);
    default:
      return JSON.stringify(value);
  }
}

/** The line for one request: `{"log":"access","time":"<ISO>",...fields}`. */
export function accessLine(fields: Record<string, unknown>): string {
  let line = '{"log":"access","time":"' + new Date(Date.now()).toISOString() + '"';
  for (const key in fields) {
    const text = fieldText(fields[key]);
    if (text !== undefined) line += ',' + asString(key) + ':' + text;
  }
  return line + '}\n';
}

export function createAccessLog(target: true | string, stream?: NodeJS.WritableStream): AccessLog {
  const file: SonicBoom | undefined =
    typeof target === 'string'
      ? buildSafeSonicBoom({ dest: target, sync: false, mkdir: true, mode: 0o600 })
      : undefined;
  const destination: { write(line: string): unknown } =
    file ?? stream ?? buildSafeSonicBoom({ dest: 1, sync: false });
  return {
    target,
    write(ctx) {
      destination.write(
        accessLine({
          remote: ctx.remoteAddr,
          method: ctx.method,
          uri: scrubTarget(ctx.requestUri),
          status: ctx.status,
          route: ctx.route?.name ?? null,
          server: ctx.server?.name ?? null,
          upstream: ctx.upstream || null,
          duration_ms: Math.round((performance.now() - ctx.start) * 1000) / 1000,
          bytes_in: ctx.bytesIn,
          bytes_out: ctx.bytesOut,
          error: ctx.error || null,
        }),
      );
    },
    close() {
      if (!file) return;
      try {
        file.flushSync();
      } catch {
        // Not open yet or already closed: nothing to flush.
      }
      file.end();
    },
  };
}
