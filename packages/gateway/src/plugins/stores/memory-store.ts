// Counters in this process. Expired state is swept on a timer (unref'd) so the maps hold only live
// identifiers (volos' memory buffer never deleted any). The cluster store leases one identifier's
// state between the master and a worker through `exportState`/`importState`.
import type { CounterStore, SpikeSlot, WindowCount } from './counter-store.js';

interface Window {
  count: number;
  resetAt: number;
}

/** Spike-arrest slots of one identifier: `next` is the first free slot time at the tail of the
 *  queue; `freed` are earlier slots given back by requests that left (ascending). */
interface Spike {
  next: number;
  freed: number[];
}

/** One identifier's state in transit (JSON over IPC). */
export interface CounterState {
  readonly window?: Window;
  readonly spike?: Spike;
}

/** Slot times are sums of fractional intervals: compare them with this tolerance (ms). */
const EPS = 1e-6;

export class MemoryStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private readonly spikes = new Map<string, Spike>();
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

  reserveSync(id: string, intervalMs: number, maxQueued: number): SpikeSlot | null {
    const t = this.now();
    let s = this.spikes.get(id);
    if (!s) this.spikes.set(id, (s = { next: 0, freed: [] }));
    // A freed slot that has passed is gone: taking it late would crowd the next one.
    while (s.freed.length && s.freed[0]! < t - EPS) s.freed.shift();
    const reused = s.freed.shift();
    if (reused !== undefined) return { waitMs: Math.max(0, reused - t), slot: reused };
    let slot = t;
    if (s.next > t) {
      const waiting = Math.ceil((s.next - t) / intervalMs - EPS) - 1;
      if (waiting >= maxQueued) return null;
      slot = s.next;
    }
    s.next = slot + intervalMs;
    return { waitMs: slot - t, slot };
  }

  releaseSync(id: string, slot: number, intervalMs: number): void {
    const s = this.spikes.get(id);
    if (!s || slot <= this.now()) return;
    if (Math.abs(s.next - (slot + intervalMs)) < EPS) {
      // The tail left: the queue shortens, and so does it over freed slots now at the tail.
      s.next = slot;
      while (s.freed.length && Math.abs(s.freed[s.freed.length - 1]! - (s.next - intervalMs)) < EPS)
        s.next = s.freed.pop()!;
      return;
    }
    let i = s.freed.length;
    while (i > 0 && s.freed[i - 1]! > slot) i--;
    s.freed.splice(i, 0, slot);
  }

  hitLocal(id: string, windowMs: number, weight: number): WindowCount {
    return this.hitSync(id, windowMs, weight);
  }

  hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    return Promise.resolve(this.hitSync(id, windowMs, weight));
  }

  reserve(id: string, intervalMs: number, maxQueued: number): Promise<SpikeSlot | null> {
    return Promise.resolve(this.reserveSync(id, intervalMs, maxQueued));
  }

  release(id: string, slot: number, intervalMs: number): Promise<void> {
    this.releaseSync(id, slot, intervalMs);
    return Promise.resolve();
  }

  /** Remove and return `id`'s state (window and spike slots); the caller becomes its keeper. */
  exportState(id: string): CounterState {
    const window = this.windows.get(id);
    const spike = this.spikes.get(id);
    this.windows.delete(id);
    this.spikes.delete(id);
    return { ...(window ? { window } : {}), ...(spike ? { spike } : {}) };
  }

  /** Take over `id`'s state from its previous keeper. */
  importState(id: string, state: CounterState): void {
    this.windows.delete(id);
    this.spikes.delete(id);
    if (state.window) this.windows.set(id, { count: state.window.count, resetAt: state.window.resetAt });
    if (state.spike) this.spikes.set(id, { next: state.spike.next, freed: [...state.spike.freed] });
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, w] of this.windows) if (w.resetAt <= t) this.windows.delete(id);
    for (const [id, s] of this.spikes) if (s.next <= t) this.spikes.delete(id);
  }
}
