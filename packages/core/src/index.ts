// @gatehouse/core: the engine. Products configure it only through the native config.
export { createGatehouse, Gatehouse, type GatehouseOptions, type BoundAddress } from './gatehouse.js';
export type * from './config/types.js';
export { validateConfig, ConfigError, type ConfigProblem, type ValidateOptions } from './config/validate.js';
export { compileConfig, type Snapshot, type CompiledRoute, type CompiledServer } from './config/compile.js';
export { readConfigFile, parseConfigText } from './config/load.js';
export { Router } from './routing/router.js';
export { parseTarget } from './routing/uri.js';
export { compileTemplate, TemplateError } from './routing/variables.js';
export { ProxyError, type ErrorCode } from './errors/codes.js';
export {
  UpstreamError,
  UpstreamConnectError,
  UpstreamDnsError,
  UpstreamTlsError,
  UpstreamTimeoutError,
  UpstreamProtocolError,
  UpstreamResetError,
  UpstreamRequestError,
} from './errors/upstream.js';
export { jsonRenderer, type EngineError, type ErrorRenderer, type RenderedError } from './errors/renderer.js';
export type { PipelineRunner } from './server/handler-deps.js';
export type { RequestContext } from './server/request-context.js';
export { startDemoUpstream, type DemoUpstream } from './demo/demo-upstream.js';
export * as tls from './tls/index.js';
export * from './pipeline/index.js';
