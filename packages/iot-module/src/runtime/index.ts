// The running module: twin, workload API, token service, admin, and the engine they configure.
export { IotModule, ModuleEnvironmentError, REQUIRED_ENV, inlineMaterial } from './iot-module.js';
export type { IotModuleOptions, ConfigState, LastError, ApplyResult } from './iot-module.js';
export {
  WorkloadClient,
  WorkloadError,
  type ServerCertificate,
  type WorkloadClientOptions,
} from './workload-client.js';
export { TokenSource, startTokenServer, TOKEN_VALIDITY_SECONDS } from './token-service.js';
export { moduleResourceUri, formatSasToken } from './sas-token.js';
export { decodeProxyConfig, encodeProxyConfig, ProxyConfigValueError } from './proxy-config-value.js';
export { createModuleLogger, type ModuleLogger } from './module-logger.js';
