// The V8 heap profile of the `gatehouse` process. Under a proxy's allocation rate Node's defaults let
// the young generation grow to 2 × 16 MiB, so a proxy idling at ~58 MiB peaks near 98 MiB under
// load (and old-generation garbage piles up). Measured with bench/experiments/heap-ab.sh and the
// bench (bench/ANALYSIS.md, "Memory"):
//   balanced (default)  young generation capped at 8 MiB, old generation collected once it grows
//                       30 % past its live size: peak ~78 MiB, no measurable cost;
//   compact             young generation kept at its initial 2 MiB, old generation as balanced:
//                       peak ~70 MiB, up to 20 % fewer requests per CPU-second (edge devices short
//                       of memory);
//   node                V8's defaults.
// V8 reads these flags at each collection, so setting them from here (imported first by the CLI,
// before the engine's modules load) takes effect; library users keep their process's settings.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

export const HEAP_PROFILES = ['balanced', 'compact', 'node'] as const;
export type HeapProfile = (typeof HEAP_PROFILES)[number];

/** The young generation's cap under `balanced`: semi-spaces grow (×2) until it is reached. */
const BALANCED_NEW_SPACE = 8 * 1024 * 1024;

/** The profile asked for by `--heap NAME` / `--heap=NAME`, else `GATEHOUSE_HEAP`, else `balanced`. */
export function heapProfileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): HeapProfile | Error {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--heap') value = argv[i + 1];
    else if (a.startsWith('--heap=')) value = a.slice(7);
  }
  value ??= env.GATEHOUSE_HEAP ?? 'balanced';
  return (HEAP_PROFILES as readonly string[]).includes(value)
    ? (value as HeapProfile)
    : new Error(`--heap (or GATEHOUSE_HEAP) must be one of ${HEAP_PROFILES.join(', ')}, got "${value}"`);
}

function newSpaceSize(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/** Keep the young generation near `cap`: growth is allowed below it and stopped at it, looked at
 *  after every collection (it only changes in one; a timer missed several doublings at 11k
 *  requests/s). V8 may also shrink it when allocation slows; growth is then allowed again. */
function capNewSpace(cap: number): void {
  let stopped = false;
  const check = (): void => {
    const stop = newSpaceSize() >= cap;
    if (stop === stopped) return;
    stopped = stop;
    v8.setFlagsFromString(stop ? '--semi-space-growth-factor=1' : '--semi-space-growth-factor=2');
  };
  check();
  new PerformanceObserver(check).observe({ entryTypes: ['gc'] });
}

export function applyHeapProfile(profile: HeapProfile): void {
  if (profile === 'node') return;
  // The old generation is collected once it is 30 % past its live size (V8 lets promoted garbage
  // pile up to about 2.5× under a proxy's load: 26 MiB of old space for 10 MiB live).
  v8.setFlagsFromString('--heap-growing-percent=30');
  if (profile === 'balanced') capNewSpace(BALANCED_NEW_SPACE);
  else v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** The profile this process runs with (an invalid choice is reported by the command line). */
export const heapProfile = heapProfileFrom(process.argv.slice(2), process.env);
if (!(heapProfile instanceof Error)) applyHeapProfile(heapProfile);
