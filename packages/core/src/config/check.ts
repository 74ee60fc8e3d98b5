// What `gatehouse check` and every reload do before a config is used: validate it, then compile it,
// so that a problem only the compiler sees (a template naming an unknown variable, a bad regular
// expression) is reported before anything runs.
import { compileConfig } from './compile.js';
import type { GatehouseConfig } from './types.js';
import { validateConfig } from './validate.js';

/** Validate and compile `input` without running it; returns the validated config, or throws the
 *  ConfigError naming each problem's key path (prefixed by `source`, e.g. the file name). */
export function checkConfig(input: unknown, source?: string): GatehouseConfig {
  const config = validateConfig(input, source);
  compileConfig(config, source);
  return config;
}
