import type { SystemName } from '../peers/types.js';
import type { Primary } from '../scenarios/types.js';

/** Figures from one measured window (one repetition). */
export interface RepMetrics {
  requestsPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Requests served per CPU-second of the proxy's process tree (utime + stime). */
  reqPerCpuSecond: number;
  /** The proxy tree's CPU use over the window, in % of one core. */
  cpuPercent: number;
  /** Response bytes per second, 10^6 bytes. */
  mbPerSecond: number;
  errors: number;
  /** Current RSS of the tree at the end of the window (MiB). */
  rssMiB: number;
  /** Idle scenario: connections held open when memory was read. */
  openConnections?: number;
}

type Ratios = Partial<Record<Primary, number>>;

export interface SystemResult {
  scenario: string;
  system: SystemName;
  status: 'ok' | 'skipped' | 'failed' | 'pending';
  reason?: string;
  reps: RepMetrics[];
  /** Per-metric median over the repetitions. */
  median?: RepMetrics;
  /** Peak RSS (VmHWM) of the tree, summed, after the last repetition (MiB). */
  peakRssMiB?: number;
  /** Each figure divided by nginx's in the same scenario of the same run. */
  ratio?: Ratios;
}

export interface Timing {
  warmupSeconds: number;
  seconds: number;
  reps: number;
}
