import type { Primary } from '../scenarios/types.js';
import type { RepMetrics, SystemResult } from './types.js';

const FIELDS: Primary[] = ['requestsPerSecond', 'reqPerCpuSecond', 'mbPerSecond', 'rssMiB'];

/** Fill `ratio` of every ok result with its figures divided by nginx's in the same scenario. */
export function addRatios(results: SystemResult[]): void {
  const ref = results.find((r) => r.system === 'nginx' && r.status === 'ok')?.median;
  if (!ref) return;
  for (const r of results) {
    if (r.status !== 'ok' || !r.median) continue;
    const ratio: SystemResult['ratio'] = {};
    for (const f of FIELDS) {
      const a = r.median[f as keyof RepMetrics];
      const b = ref[f as keyof RepMetrics];
      if (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b > 0)
        ratio[f] = a / b;
    }
    r.ratio = ratio;
  }
}
