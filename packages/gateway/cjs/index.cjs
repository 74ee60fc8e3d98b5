'use strict';
// CommonJS entry: `require('@gatehouse/gateway')` is the microgateway-core-compatible factory, as
// `require('microgateway-core')` is. The implementation is the package's ES module, loaded with
// require(esm) (Node 20.19 and later).
if (!process.features.require_module) {
  throw new Error(
    "require('@gatehouse/gateway') needs Node.js 20.19 or later (require of ES modules); " +
      "on older versions use import('@gatehouse/gateway')",
  );
}
const compat = require('@gatehouse/gateway/compat');
module.exports = compat.default;
