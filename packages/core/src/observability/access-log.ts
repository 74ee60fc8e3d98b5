// The access log: one JSON line per finished request (pino), to stdout, a stream, or a 0600 file.
// Secrets in query strings are scrubbed; headers are never logged.
import { pino } from 'pino';
import type { RequestContext } from '../server/request-context.js';
import { scrubTarget } from './logger.js';

export interface AccessLog {
  /** What this log writes to (`true` = stdout or the engine's stream, a string = a file). */
  readonly target: true | string;
  write(ctx: RequestContext): void;
  /** Flush and release the file (a no-op for stdout and caller-owned streams). */
  close(): void;
}

export function createAccessLog(target: true | string, stream?: NodeJS.WritableStream): AccessLog {
  const file =
    typeof target === 'string'
      ? pino.destination({ dest: target, sync: false, mkdir: true, mode: 0o600 } as Parameters<
          typeof pino.destination
        >[0])
      : undefined;
  const destination = (file ??
    stream ??
    pino.destination({ dest: 1, sync: false })) as pino.DestinationStream;
  // No pid/hostname; an ISO time; `log: "access"` in place of the numeric level.
  const log = pino(
    {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: () => ({ log: 'access' }) },
    },
    destination,
  );
  return {
    target,
    write(ctx) {
      log.info({
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
      });
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
