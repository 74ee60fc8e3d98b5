import type { Primary } from '../scenarios/types.js';

export function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : `${n.toFixed(2)}×`;
}

export const PRIMARY_LABEL: Record<Primary, string> = {
  reqPerCpuSecond: 'req per proxy CPU-s',
  requestsPerSecond: 'req/s',
  mbPerSecond: 'MB/s',
  rssMiB: 'RSS (lower is better)',
};
