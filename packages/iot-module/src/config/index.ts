// The IoT module's configuration pipeline (template → nginx → native config) and its check.
export {
  loadProxyConfig,
  RenderedConfigError,
  DEFAULT_TEMPLATE_FILE,
  type LoadProxyConfigOptions,
  type LoadedProxyConfig,
  type ConfigNotice,
} from './load-proxy-config.js';
export { prepareProxyConfig } from './prepare-proxy-config.js';
export { renderAndCheck, type CheckResult } from './render-and-check.js';
export { describeConfig } from './describe-config.js';
export { DEFAULT_TEMPLATE_PATH, readDefaultTemplate } from './default-template.js';
export { templateLineOf } from './template-line-map.js';
