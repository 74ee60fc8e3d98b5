export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The median of each field over the repetitions (fields absent in every rep stay absent). */
export function medianOf<T extends object>(reps: T[]): T {
  const out: Record<string, number> = {};
  const keys = new Set(reps.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const vals = reps
      .map((r) => (r as Record<string, unknown>)[k])
      .filter((x): x is number => typeof x === 'number');
    if (vals.length > 0) out[k] = median(vals);
  }
  return out as T;
}
