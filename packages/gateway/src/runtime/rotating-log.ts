// edgemicro's `logging.dir` files: `edgemicro-<host>-<id>-<n>-api.log`, a new `<n>` (from 1) every
// `logging.rotate_interval` hours, old files kept (edgemicro deletes nothing). edgemicro has one
// writer, its master, fed by the workers over IPC; here every process writes itself, and they agree
// without talking: the file of a moment is computed from the master's start time, so all write the
// same file in the same period. Each line is one write(2) on a descriptor opened O_APPEND, so lines
// of different processes never interleave, and it is synchronous, so a line logged just before a
// worker exits is on disk (an asynchronous stream would lose its queue at process.exit).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

export interface LogFileSpec {
  readonly dir: string;
  /** Names this gateway's files (the master's pid). */
  readonly id: string;
  /** Epoch ms the master started: period 1 begins here. */
  readonly startedAt: number;
  /** `logging.rotate_interval` in ms. */
  readonly rotateMs: number;
  /** File mode: 0o600, or 0o755 with `logging.disableStrictLogFile` (as edgemicro). */
  readonly mode: number;
}

const HOUR_MS = 3_600_000;

/** edgemicro's rule: `rotate_interval` hours, 24 when unset or 0. */
export function rotateMs(rotateIntervalHours: number | undefined): number {
  return (rotateIntervalHours || 24) * HOUR_MS;
}

function logFilePath(spec: LogFileSpec, period: number): string {
  return join(spec.dir, `edgemicro-${hostname()}-${spec.id}-${period}-api.log`);
}

/** The period (from 1) that `now` falls in. */
function periodAt(spec: LogFileSpec, now: number): number {
  return 1 + Math.max(0, Math.floor((now - spec.startedAt) / spec.rotateMs));
}

/** A log destination writing each line to the current period's file. It never emits an error: a
 *  file that cannot be opened or written is reported once on stderr and its lines go to stderr. */
export class RotatingLogFile extends Writable {
  private fd = -1;
  private period = 0;
  private warned = false;

  constructor(
    private readonly spec: LogFileSpec,
    /** Called with each file as it is opened (the master prints it, as edgemicro does). */
    private readonly onOpen?: (path: string) => void,
  ) {
    super();
    mkdirSync(spec.dir, { recursive: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeLine(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeFile();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile();
    callback(error);
  }

  private writeLine(chunk: Buffer): void {
    const period = periodAt(this.spec, Date.now());
    if (period !== this.period) this.open(period);
    if (this.fd !== -1) {
      try {
        writeSync(this.fd, chunk);
        return;
      } catch (err) {
        this.warn(`cannot write the log file: ${(err as Error).message}`);
      }
    }
    process.stderr.write(chunk);
  }

  private open(period: number): void {
    this.closeFile();
    this.period = period;
    const path = logFilePath(this.spec, period);
    try {
      this.fd = openSync(path, 'a', this.spec.mode);
      this.warned = false;
      this.onOpen?.(path);
    } catch (err) {
      this.warn(`cannot open the log file ${path}: ${(err as Error).message}`);
    }
  }

  private closeFile(): void {
    if (this.fd === -1) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed: nothing to release.
    }
    this.fd = -1;
  }

  private warn(message: string): void {
    if (this.warned) return;
    this.warned = true;
    process.stderr.write(`edgemicro: ${message}; logging to stderr\n`);
  }
}
