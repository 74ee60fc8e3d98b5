// TLS for the engine: development PKI, the certificate store with hot reload, listener options (SNI,
// client certificates), certificate metrics and upstream TLS.
export * from './pki.js';
export * from './certificate-store.js';
export * from './escape.js';
export * from './client-certificate.js';
export * from './server-tls.js';
export * from './metrics.js';
export * from './upstream-tls.js';
