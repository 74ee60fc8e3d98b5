// Types of the CommonJS entry: the microgateway-core-compatible factory (see dist/compat/index.d.ts).
import type { MicrogatewayFactory } from '../dist/compat/index.js' with { 'resolution-mode': 'import' };

declare const microgateway: MicrogatewayFactory;
export = microgateway;
