// The microgateway-core-compatible entry: `factory(config)` returns a gateway with `start(cb)`,
// `stop(cb)` and `addPlugin(name, init)`; `factory.Logging` is the logging module. The CommonJS
// entry (`require('@gatehouse/gateway')`) exports the same factory.
import { Microgateway, type MicrogatewayConfig } from './gateway.js';
import { Logging, type MicrogatewayLogging } from './logging.js';

export {
  Microgateway,
  MicrogatewayCompatError,
  type MicrogatewayConfig,
  type MicrogatewayServer,
  type PluginInit,
  type StartCallback,
  type StopCallback,
} from './gateway.js';
export { Logging, type LoggingOptions, type MicrogatewayLogging } from './logging.js';

/** `require('microgateway-core')`'s shape: a factory with the `Logging` module attached. */
export interface MicrogatewayFactory {
  (config: MicrogatewayConfig): Microgateway;
  readonly Logging: MicrogatewayLogging;
}

function factory(config: MicrogatewayConfig): Microgateway {
  return new Microgateway(config);
}

export const microgateway: MicrogatewayFactory = Object.assign(factory, { Logging });
export default microgateway;
