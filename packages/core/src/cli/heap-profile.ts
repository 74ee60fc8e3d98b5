// The V8 heap profile of the `gatehouse` process. Under a proxy's allocation rate Node's defaults let
// the young generation grow to 2 × 16 MiB, so a proxy idling at ~55 MiB peaks near 95 MiB under
// load, and V8 lets the old generation grow by 8 MiB of garbage before it collects it. Measured with
// bench/experiments/heap-ab.sh and the bench (bench/ANALYSIS.md, "Memory" and item 12):
//   balanced (default)  young generation capped at 2 MiB, old-generation garbage held near 2 MiB
//                       (guardOldGeneration): peak 60-61 MiB after the small-response run (72 MiB
//                       with round 4's 8 MiB cap, 88-90 MiB with V8's defaults), for 16-28 %
//                       fewer requests per CPU-second than `node` on small responses (same window);
//   compact             young generation kept at its initial size, old generation as balanced
//                       (edge devices short of memory);
//   node                V8's defaults.
// V8 reads these flags at each collection, so setting them from here (imported first by the CLI,
// before the engine's modules load) takes effect; library users keep their process's settings.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

const HEAP_PROFILES = ['balanced', 'compact', 'node'] as const;
export type HeapProfile = (typeof HEAP_PROFILES)[number];

/** The young generation's cap under `balanced`: semi-spaces grow (×2) until it is reached. Each
 *  halving from 8 MiB saved about 2 MiB at peak; scavenges' own time rose 1.6 % of CPU each
 *  (--trace-gc), the throughput loss measured is larger (bench/ANALYSIS.md, item 12). */
const BALANCED_NEW_SPACE = 2 * 1024 * 1024;

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

/** Bytes of objects in the old generation (old, code and large-object spaces). */
function oldGenerationUsed(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name !== 'new_space') used += s.space_used_size;
  return used;
}

/** V8's full collection, without exposing `gc` to the application's own contexts. */
export function fullCollection(): (() => void) | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as () => void;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

const GUARD_PERIOD_MS = 250;
const GUARD_MIN_STEP = 2 * 1024 * 1024;
/** Above this the 30 % growing factor is the smaller step and V8's own schedule is kept. */
const GUARD_MAX_USED = 32 * 1024 * 1024;

/** One look at the old generation: `used` reads its size, `collect` runs a full collection. It is
 *  collected once it has grown by more than 2 MiB (or a quarter) past the size the last collection
 *  left; a reading below that (V8 collected on its own) becomes the new mark. */
export function oldGenerationCheck(used: () => number, collect: () => void): () => void {
  let live = used();
  return () => {
    const now = used();
    if (now < live) live = now;
    else if (now < GUARD_MAX_USED && now - live > Math.max(GUARD_MIN_STEP, live / 4)) {
      collect();
      live = used();
    }
  };
}

/** Keep garbage in a small old generation near 2 MiB. V8 starts a full collection only once the old
 *  generation has grown by its minimum step of 8 MiB plus the young generation's capacity, whatever
 *  the growing factor: a proxy with 7 MiB live ran with 15 MiB of old space, most of it objects
 *  promoted while the code warmed up and the first connections opened. Looked at four times a
 *  second; a full collection at this size pauses the process 5–15 ms, a few times in the first
 *  seconds of load and then every several seconds (bench/ANALYSIS.md, item 12). */
function guardOldGeneration(): void {
  const gc = fullCollection();
  if (gc) setInterval(oldGenerationCheck(oldGenerationUsed, gc), GUARD_PERIOD_MS).unref();
}

/** Keep the young generation near `cap`: growth is allowed below it and stopped at it. While it may
 *  still grow, every collection is looked at (it only changes in one; a timer missed several
 *  doublings at 11k requests/s). Once stopped, the gc observer is dropped (node builds entry
 *  objects with deprecated getters for each collection, old-generation garbage under load) and a
 *  slow timer watches for V8 shrinking it when allocation slows; growth is then allowed again. */
function capNewSpace(cap: number): void {
  const observer = new PerformanceObserver(() => {
    if (newSpaceSize() >= cap) stop();
  });
  const grow = (): void => {
    v8.setFlagsFromString('--semi-space-growth-factor=2');
    observer.observe({ entryTypes: ['gc'] });
  };
  const stop = (): void => {
    observer.disconnect();
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    const watch = setInterval(() => {
      if (newSpaceSize() >= cap) return;
      clearInterval(watch);
      grow();
    }, 1000);
    watch.unref();
  };
  if (newSpaceSize() >= cap) stop();
  else grow();
}

function applyHeapProfile(profile: HeapProfile): void {
  if (profile === 'node') return;
  // The old generation is collected once it is 30 % past its live size (V8 lets promoted garbage
  // pile up to about 2.5× under a proxy's load: 26 MiB of old space for 10 MiB live).
  v8.setFlagsFromString('--heap-growing-percent=30');
  guardOldGeneration();
  if (profile === 'balanced') capNewSpace(BALANCED_NEW_SPACE);
  else v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** The profile this process runs with (an invalid choice is reported by the command line). */
export const heapProfile = heapProfileFrom(process.argv.slice(2), process.env);
if (!(heapProfile instanceof Error)) applyHeapProfile(heapProfile);
