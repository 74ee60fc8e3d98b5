// What `iot-module run` does to a template before it serves it, and what `iot-module check` does:
// render, parse, compile to the native config, then the engine's own validation and compilation.
// One function, so `check` cannot pass a configuration that `run` would refuse.
import { validateConfig } from '@gatehouse/core';
import { compileConfig } from '@gatehouse/core/internal';
import { loadProxyConfig, type LoadedProxyConfig, type LoadProxyConfigOptions } from './load-proxy-config.js';

export function prepareProxyConfig(options: LoadProxyConfigOptions): LoadedProxyConfig {
  const loaded = loadProxyConfig(options);
  const config = validateConfig(loaded.config, options.templateFile ?? 'proxy configuration');
  compileConfig(config);
  return { ...loaded, config };
}
