// @gatehouse/gateway: the default export (and the CommonJS entry) is the microgateway-core-compatible
// factory; the rest of the gateway's typed API is exported by name.
export { default } from './compat/index.js';
export * from './compat/index.js';
