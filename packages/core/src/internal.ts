// @gatehouse/core/internal: the compiler and engine parts the products in this repository build on
// (the config compiler and its snapshot, the router, templates, the request-target parser, the whole
// TLS module). Not a stable API: it changes with the engine. Library users import @gatehouse/core.
export { compileConfig, type Snapshot, type CompiledRoute, type CompiledServer } from './config/compile.js';
export { Router } from './routing/router.js';
export { parseTarget } from './routing/uri.js';
export { compileTemplate, TemplateError } from './routing/variables.js';
export * as tls from './tls/index.js';
export { egressProxyFromEnv } from './upstream/egress-proxy.js';
