// @gatehouse/iot-module: Gatehouse as the Azure IoT Edge API proxy module.
// The configuration pipeline is the entry point; the template language and the nginx interpreter
// are exported for tools and tests that need one step alone.
export * from './config/index.js';
export {
  renderTemplate,
  evaluateBooleanExpression,
  isTruthy,
  TemplateError,
  type RenderOptions,
  type RenderResult,
  type TemplateErrorCode,
  type TemplateNotice,
} from './template/index.js';
export {
  parse,
  compile,
  NginxConfigError,
  NGINX_DEFAULT_MAX_BODY_SIZE,
  type CompileOptions,
  type CompileResult,
  type NginxConfigAst,
  type ParseOptions,
} from './nginx/index.js';
export * from './runtime/index.js';
