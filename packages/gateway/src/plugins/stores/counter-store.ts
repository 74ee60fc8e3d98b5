// Where quota and spike-arrest state lives. One interface, three homes: this process (tests,
// single process), the cluster master (all workers of one gateway share it over IPC, with the
// state of an identifier leased to the one worker that uses it), Redis (many gateway instances share
// it). A store that cannot answer rejects; the plugins decide whether that fails open or closed.

export interface WindowCount {
  /** Hits in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends (it started at its first hit: edgemicro's `flexi` quota). */
  readonly resetInMs: number;
}

/** A spike-arrest slot: go after `waitMs`; `slot` identifies it for `release`. */
export interface SpikeSlot {
  readonly waitMs: number;
  readonly slot: number;
}

export interface CounterStore {
  /** Add `weight` hits to `id`'s window of `windowMs`; the window starts at its first hit. */
  hit(id: string, windowMs: number, weight: number): Promise<WindowCount>;
  /** The same as `hit` when this process holds the state (answered at once), else undefined and
   *  nothing counted: the caller then uses `hit`. */
  hitLocal(id: string, windowMs: number, weight: number): WindowCount | undefined;
  /**
   * Spike arrest (reference §4.12): slots are `intervalMs` apart. A request takes the next free
   * slot: now when the last one was at least `intervalMs` ago, else a later one if at most
   * `maxQueued` requests already wait for theirs (edgemicro's `bufferSize`); null: refused.
   */
  reserve(id: string, intervalMs: number, maxQueued: number): Promise<SpikeSlot | null>;
  /** Give back a slot whose request left before its time (the queue shortens by one). */
  release(id: string, slot: number, intervalMs: number): Promise<void>;
  close(): Promise<void>;
}
