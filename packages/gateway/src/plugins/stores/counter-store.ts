// Where quota and spike-arrest state lives. One interface, three homes: this process (tests,
// single process), the cluster master (all workers of one gateway share it over IPC), Redis (many
// gateway instances share it). A store that cannot answer rejects; the plugins decide whether that
// fails open or closed.

export interface WindowCount {
  /** Hits in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends (it started at its first hit: edgemicro's `flexi` quota). */
  readonly resetInMs: number;
}

export interface CounterStore {
  /** Add `weight` hits to `id`'s window of `windowMs`; the window starts at its first hit. */
  hit(id: string, windowMs: number, weight: number): Promise<WindowCount>;
  /** Spike arrest (reference §4.12): allowed when the last allowed request for `id` was at least
   *  `intervalMs` ago; an allowed request becomes the last one. */
  admit(id: string, intervalMs: number): Promise<boolean>;
  close(): Promise<void>;
}
