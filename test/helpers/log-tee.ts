// Every log line the test suite makes, kept for the secret sweep (scripts/test.mjs sets
// GATEHOUSE_TEST_LOG_DIR and runs test/helpers/log-sweep.ts over it after the run). Engines started
// by the helpers log at trace level into one file per test process; their usual destinations still
// get only the lines at the level the test asked for.
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

let file: WriteStream | undefined;

/** The suite's log file for this process, or undefined when no sweep was asked for. */
function suiteLogFile(): WriteStream | undefined {
  const dir = process.env.GATEHOUSE_TEST_LOG_DIR;
  if (!dir) return undefined;
  file ??= createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' });
  return file;
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Level for a logger: trace when the suite keeps every line, else the level the test wants. */
export function teeLevel(level: Level): Level {
  return suiteLogFile() ? 'trace' : level;
}

/**
 * A destination that copies every line to the suite's log file and passes on to `next` only the
 * lines at `level` or above (`silent`: none).
 */
export function teeDestination(level: string, next?: NodeJS.WritableStream): Writable {
  const min = LEVELS[level] ?? Infinity;
  const out = suiteLogFile();
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      out?.write(chunk);
      if (next) {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const m = /"level":(\d+)/.exec(line);
          if (!m || Number(m[1]) >= min) next.write(`${line}\n`);
        }
      }
      cb();
    },
  });
}

/** Copy a child process's log output (gatehouse serve writes JSON lines to stdout) to the suite's file. */
export function teeChildOutput(chunk: Buffer | string): void {
  suiteLogFile()?.write(chunk);
}
