// @gatehouse/core: the engine. Products configure it only through the native config.
export { createGatehouse, Gatehouse, type GatehouseOptions, type BoundAddress } from './gatehouse.js';
export type * from './config/types.js';
export { validateConfig, ConfigError, type ConfigProblem } from './config/validate.js';
export { compileConfig, type Snapshot, type CompiledRoute, type CompiledServer } from './config/compile.js';
export { readConfigFile, parseConfigText } from './config/load.js';
export { Router } from './routing/router.js';
export { parseTarget } from './routing/uri.js';
export { compileTemplate, TemplateError } from './routing/variables.js';
export { ProxyError, type ErrorCode } from './server/errors.js';
export type { PipelineRunner } from './server/request-handler.js';
export type { RequestContext } from './server/request-context.js';
export { startDemoUpstream, type DemoUpstream } from './demo/demo-upstream.js';
export * as tls from './tls/index.js';
export * from './pipeline/index.js';
export { createLogger, type Logger } from './observability/logger.js';
