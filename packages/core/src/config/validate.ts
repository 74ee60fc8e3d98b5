// Validation of the native config: the schema (config/schema.ts, compiled to schema.generated.ts)
// checks every value's type and range, then cross-checks what a schema cannot express. Every problem
// is reported with its key path and what was expected, all at once, so a user fixes a file in one
// pass (like `nginx -t`, but complete).
import { crossCheck } from './cross-checks.js';
import { checkSchema } from './schema-check.js';
import { CONFIG_SCHEMA } from './schema.generated.js';
import type { GatehouseConfig } from './types.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(
      `${source ? `${source}: ` : ''}invalid configuration:\n` +
        problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
  }
}

/** What the engine that will run a config has, beyond what the config itself defines. */
export interface ValidateOptions {
  /** File name for messages. */
  source?: string;
  /** Error renderer names registered with the engine (the built-in `json` is always known). */
  errorRenderers?: Iterable<string>;
  /** Plugin names the engine can run. When absent, routes may name plugins only if the config has a
   *  `plugins` section to load them from (whoever loads them reports a missing one). */
  plugins?: Iterable<string>;
}

/** Validate an unknown value as a GatehouseConfig; throws ConfigError listing every problem. Returns a
 *  deep, frozen copy: the caller's object may change afterwards without changing what runs. */
export function validateConfig(original: unknown, options?: string | ValidateOptions): GatehouseConfig {
  const o: ValidateOptions = typeof options === 'string' ? { source: options } : (options ?? {});
  let input: unknown;
  try {
    // Copied before checking, so what was checked is what runs (getters are read once, here).
    input = structuredClone(original);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `not plain data (${(err as Error).message})` }], o.source);
  }
  const problems: ConfigProblem[] = [];
  const fail = (path: string, message: string) => void problems.push({ path, message });
  checkSchema(input, CONFIG_SCHEMA, fail);
  crossCheck(
    input,
    {
      renderers: new Set(['json', ...(o.errorRenderers ?? [])]),
      plugins: o.plugins === undefined ? undefined : new Set(o.plugins),
    },
    fail,
  );
  if (problems.length) throw new ConfigError(problems, o.source);
  return deepFreeze(input) as GatehouseConfig;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
