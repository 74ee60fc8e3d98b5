// Counters in this process. Expired windows are swept on a timer (unref'd) so the map holds only
// live identifiers (volos' memory buffer never deleted any).
import type { CounterStore, WindowCount } from './counter-store.js';

interface Window {
  count: number;
  resetAt: number;
}

export class MemoryStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private readonly last = new Map<string, { at: number; until: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    sweepMs = 10_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  hitSync(id: string, windowMs: number, weight: number): WindowCount {
    const t = this.now();
    let w = this.windows.get(id);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + windowMs };
      this.windows.set(id, w);
    }
    w.count += weight;
    return { count: w.count, resetInMs: w.resetAt - t };
  }

  admitSync(id: string, intervalMs: number): boolean {
    const t = this.now();
    const l = this.last.get(id);
    if (l && t - l.at < intervalMs) return false;
    this.last.set(id, { at: t, until: t + intervalMs });
    return true;
  }

  hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    return Promise.resolve(this.hitSync(id, windowMs, weight));
  }

  admit(id: string, intervalMs: number): Promise<boolean> {
    return Promise.resolve(this.admitSync(id, intervalMs));
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, w] of this.windows) if (w.resetAt <= t) this.windows.delete(id);
    for (const [id, l] of this.last) if (l.until <= t) this.last.delete(id);
  }
}
