// microgateway-core's `Logging` export: `init(config)` sets up the process's logger from
// `edgemicro.logging`, `getLogger()` returns it with edgemicro's logger API (the one plugins get).
// Records go through core's JSON logger, whose redaction keeps secrets and header maps out of lines.
import { createLogger, createPluginLogger, type Logger, type PluginLogger } from '@gatehouse/core';

type CoreLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LEVELS: Readonly<Record<string, CoreLevel>> = {
  none: 'silent',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
};

/** Options of `init` beyond microgateway-core's (which accepted and ignored an options object). */
export interface LoggingOptions {
  /** Where log lines go (default stdout); kept for later `init` calls that do not name one. */
  destination?: NodeJS.WritableStream;
}

let base: Logger | undefined;
let destination: NodeJS.WritableStream | undefined;
let facade: PluginLogger | undefined;

function levelOf(config: unknown): CoreLevel {
  const em = (config as { edgemicro?: { logging?: { level?: unknown } } } | undefined)?.edgemicro;
  const level = em?.logging?.level;
  // edgemicro's default level is error.
  return typeof level === 'string' ? (LEVELS[level] ?? 'error') : 'error';
}

/** (Re)initialise the shared logger; the level comes from `edgemicro.logging.level` (default error). */
function init(config?: unknown, options?: LoggingOptions): PluginLogger {
  if (options?.destination) destination = options.destination;
  base = createLogger({ level: levelOf(config) }, destination);
  facade = createPluginLogger(base, 'microgateway-core');
  return facade;
}

/** The shared logger, initialised with edgemicro's defaults when `init` was not called. */
function getLogger(): PluginLogger {
  return facade ?? init();
}

/** The core logger behind `getLogger()`, for engines the compat gateway builds. */
export function baseLogger(): Logger {
  if (!base) init();
  return base!;
}

export interface MicrogatewayLogging {
  init(config?: unknown, options?: LoggingOptions): PluginLogger;
  getLogger(): PluginLogger;
}

export const Logging: MicrogatewayLogging = { init, getLogger };
