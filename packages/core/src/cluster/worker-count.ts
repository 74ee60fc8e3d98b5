// The `--workers` value: a positive integer, or `auto` for one worker per CPU.
import { availableParallelism } from 'node:os';

/** The number of workers `value` asks for, or an Error saying what is wrong with it. */
export function parseWorkerCount(value: string | undefined): number | Error {
  if (value === 'auto') return Math.max(1, availableParallelism());
  if (value !== undefined && /^[1-9]\d{0,3}$/.test(value)) return Number(value);
  return new Error(`--workers: expected a positive integer or "auto", got ${JSON.stringify(value ?? '')}`);
}
