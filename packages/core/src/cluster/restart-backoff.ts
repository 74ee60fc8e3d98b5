// How long to wait before replacing a crashed worker: doubling from `initialMs` up to `maxMs`, back to
// `initialMs` once a worker has lived `resetAfterMs` — so a crash loop does not spin the CPU.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
}

export class RestartBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private nextMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 5000;
    this.resetAfterMs = options.resetAfterMs ?? 10_000;
    this.nextMs = this.initialMs;
  }

  /** The delay before restarting after a worker that lived `livedMs` crashed. */
  delayAfterCrash(livedMs: number): number {
    if (livedMs >= this.resetAfterMs) this.nextMs = this.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.maxMs);
    return delay;
  }
}
