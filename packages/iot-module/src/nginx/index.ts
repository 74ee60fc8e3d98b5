// nginx configuration support for the IoT Edge API proxy: parse nginx text, compile the supported
// directive subset into the engine's native config.
export type { NginxConfigAst, NginxDirective } from './ast.js';
export { NginxConfigError } from './errors.js';
export { parse, type ParseOptions } from './parse.js';
export { compile, NGINX_DEFAULT_MAX_BODY_SIZE, type CompileOptions, type CompileResult } from './compile.js';
export { parseSize, parseTime } from './units.js';
