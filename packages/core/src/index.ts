// @gatehouse/core: the engine, for a library user. What is here is the supported surface (pinned by
// test/public-api.test.ts and public-api.test-d.ts); the compiler and the engine's parts are in
// @gatehouse/core/internal, for the products built in this repository and may change at any time.
export { createGatehouse, Gatehouse, type GatehouseOptions, type BoundAddress } from './gatehouse.js';
export type * from './config/types.js';
export { validateConfig, ConfigError, type ConfigProblem, type ValidateOptions } from './config/validate.js';
export { checkConfig } from './config/check.js';
export { readConfigFile, parseConfigText } from './config/load.js';
export { ProxyError, STATUS as ERROR_STATUS, type ErrorCode } from './errors/codes.js';
export {
  UpstreamError,
  UpstreamConnectError,
  UpstreamDnsError,
  UpstreamTlsError,
  UpstreamTimeoutError,
  UpstreamProtocolError,
  UpstreamBusyError,
  UpstreamResetError,
  UpstreamRequestError,
} from './errors/upstream.js';
export { jsonRenderer, type EngineError, type ErrorRenderer, type RenderedError } from './errors/renderer.js';
export { createLogger, type Logger, type LogFn } from './observability/logger.js';
export type { PipelineRunner } from './server/handler-deps.js';
export type { RequestContext } from './server/request-context.js';
export { startDemoUpstream, type DemoUpstream } from './demo/demo-upstream.js';
export * as tls from './tls/public.js';
export * from './pipeline/index.js';
