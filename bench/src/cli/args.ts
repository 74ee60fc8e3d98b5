import { parseArgs } from 'node:util';
import type { Timing } from '../measure/types.js';

export interface Options {
  mode: 'quick' | 'full' | 'custom';
  timing: Timing;
  scenarios?: string[];
  systems?: string[];
  outDir?: string;
  keepTemp: boolean;
  list: boolean;
  writeResults: boolean;
  help: boolean;
}

export const USAGE = `pnpm bench [--quick | --full] [--scenario a,b] [--systems gatehouse,nginx,…]
           [--reps N] [--seconds S] [--warmup S] [--out DIR] [--write-results] [--keep-temp] [--list]
  --quick          1 s warm-up, 1 × 3 s per system and scenario (default)
  --full           3 s warm-up, 3 × 10 s, median; installs microgateway-core into bench/.peers if missing
  --scenario       run only these scenarios (see --list)
  --systems        run only these systems: gatehouse, nginx, haproxy, http-proxy-3, microgateway-core
  --write-results  also write bench/RESULTS.md from this run
  --keep-temp      keep the temp dir (configs, certificates, error logs) for inspection`;

function list(v: string | undefined): string[] | undefined {
  return v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      systems: { type: 'string' },
      reps: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      'keep-temp': { type: 'boolean', default: false },
      'write-results': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const base: 'quick' | 'full' = values.full ? 'full' : 'quick';
  let custom = false;
  const timing: Timing =
    base === 'full' ? { warmupSeconds: 3, seconds: 10, reps: 3 } : { warmupSeconds: 1, seconds: 3, reps: 1 };
  const positive = (v: string | undefined, name: string, allowZero = false): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || n > 600)
      throw new Error(`bad --${name}: ${v}`);
    custom = true;
    return n;
  };
  timing.reps = Math.round(positive(values.reps, 'reps') ?? timing.reps);
  timing.seconds = Math.round(positive(values.seconds, 'seconds') ?? timing.seconds);
  timing.warmupSeconds = Math.round(positive(values.warmup, 'warmup', true) ?? timing.warmupSeconds);
  const scenarios = list(values.scenario);
  const systems = list(values.systems);
  return {
    mode: custom ? 'custom' : base,
    timing,
    ...(scenarios ? { scenarios } : {}),
    ...(systems ? { systems } : {}),
    ...(values.out ? { outDir: values.out } : {}),
    keepTemp: values['keep-temp'] === true,
    list: values.list === true,
    writeResults: values['write-results'] === true,
    help: values.help === true,
  };
}
