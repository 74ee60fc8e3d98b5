// JSON-line logger of the running module, in the shape the engine takes (`GatehouseOptions.logger`),
// so the module's and the engine's lines go to one stream in one format. Callers never pass secrets
// (tokens, keys) in fields; error messages from the workload API carry none.

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVELS: Record<Level | 'silent', number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: 100,
};

export interface ModuleLogger {
  level: string;
  isLevelEnabled(level: string): boolean;
  trace(obj: object | string | null | undefined, msg?: string): void;
  debug(obj: object | string | null | undefined, msg?: string): void;
  info(obj: object | string | null | undefined, msg?: string): void;
  warn(obj: object | string | null | undefined, msg?: string): void;
  error(obj: object | string | null | undefined, msg?: string): void;
  fatal(obj: object | string | null | undefined, msg?: string): void;
  child(bindings: Record<string, unknown>): ModuleLogger;
}

export function createModuleLogger(
  write: (line: string) => void = (l) => process.stderr.write(l),
  level: string = 'info',
  bindings: Record<string, unknown> = { name: 'iot-module' },
): ModuleLogger {
  const threshold = (): number => LEVELS[logger.level as Level] ?? LEVELS.info;
  const log =
    (lvl: Level) =>
    (obj: object | string | null | undefined, msg?: string): void => {
      if (LEVELS[lvl] < threshold()) return;
      const fields = typeof obj === 'string' || obj == null ? {} : obj;
      const message = typeof obj === 'string' ? obj : msg;
      const errorField = (fields as { err?: unknown }).err;
      const extra =
        errorField instanceof Error ? { err: { type: errorField.name, message: errorField.message } } : {};
      write(
        `${JSON.stringify({ level: LEVELS[lvl], time: Date.now(), ...bindings, ...fields, ...extra, ...(message !== undefined ? { msg: message } : {}) })}\n`,
      );
    };
  const logger: ModuleLogger = {
    level,
    isLevelEnabled: (l) => (LEVELS[l as Level] ?? 0) >= threshold(),
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    fatal: log('fatal'),
    child: (b) => createModuleLogger(write, logger.level, { ...bindings, ...b }),
  };
  return logger;
}
