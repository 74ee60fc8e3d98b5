// The config file `gatehouse serve` runs: read it as a valid config, and watch it for changes.
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkConfig } from '../config/check.js';
import { readConfigFile } from '../config/load.js';
import type { GatehouseConfig } from '../config/types.js';

/** Read, validate and compile `path`; throws the ConfigError naming the problem. */
export function readValidConfig(path: string): GatehouseConfig {
  return checkConfig(readConfigFile(path), path);
}

/** Call `onChange` (debounced) when `path` changes. */
export function watchConfigFile(path: string, onChange: () => void, debounceMs = 150): FSWatcher {
  const dir = dirname(path);
  let timer: NodeJS.Timeout | undefined;
  // Watch the directory: editors and Kubernetes replace files by rename.
  const watcher = watch(dir, (_event, name) => {
    const n = name?.toString();
    if (n && resolve(dir, n) !== path && !n.startsWith('..')) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.unref();
  return watcher;
}
