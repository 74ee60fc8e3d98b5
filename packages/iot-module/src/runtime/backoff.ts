// Retry with exponential back-off and jitter: the module never crash-loops on a runtime that is not
// there yet (workload API, edgeHub, a parent whose name does not resolve); it waits and tries again.

export interface BackoffOptions {
  /** First delay. Default 250 ms. */
  initialMs?: number;
  /** Largest delay. Default 30 s (the Rust module's MQTT back-off cap). */
  maxMs?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions = {}) {}

  /** The next delay: doubling from `initialMs` up to `maxMs`, with ±20 % jitter. */
  next(): number {
    const initial = this.options.initialMs ?? 250;
    const max = this.options.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.attempt++, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Sleep `ms`, or less when `signal` aborts (resolves either way). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Call `fn` until it resolves; each failure is passed to `onError` and followed by a back-off delay.
 *  Rejects only when `signal` aborts. */
export async function retry<T>(
  fn: () => Promise<T>,
  options: BackoffOptions & { signal?: AbortSignal; onError?: (err: Error, delayMs: number) => void },
): Promise<T> {
  const backoff = new Backoff(options);
  for (;;) {
    if (options.signal?.aborted) throw new Error('stopped');
    try {
      return await fn();
    } catch (err) {
      const delay = backoff.next();
      options.onError?.(err as Error, delay);
      await sleep(delay, options.signal);
    }
  }
}
