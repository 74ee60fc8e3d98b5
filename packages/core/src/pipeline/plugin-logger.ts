// The `logger` and `stats` objects edgemicro passes to `init`. Logging goes through the engine's pino
// logger (whose redaction drops secret-bearing fields); request objects are reduced to method, path
// and status so headers (API keys, tokens) never reach a log line.
import type { Logger } from '../observability/logger.js';
import { scrubTarget } from '../observability/logger.js';
import type { EventLogRecord, PluginLogger, PluginStats, StatsSnapshot } from './types.js';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** Reduce what a plugin hands us to loggable fields: never whole requests, never header maps. */
function fields(obj: unknown): Record<string, unknown> | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  if (obj instanceof Error) return { err: { message: obj.message, code: (obj as { code?: unknown }).code } };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'req' || k === 'res') continue;
    if (k === 'err' && v instanceof Error)
      out.err = { message: v.message, code: (v as { code?: unknown }).code };
    else if (v === null || typeof v !== 'object') out[k] = v;
    else if (Array.isArray(v) || k === 'headers') continue;
    else out[k] = v;
  }
  const req = (obj as EventLogRecord).req;
  if (req && typeof req === 'object') {
    out.method = req.method;
    if (typeof req.url === 'string') out.url = scrubTarget(req.url);
  }
  const res = (obj as EventLogRecord).res;
  if (res && typeof res === 'object' && typeof res.statusCode === 'number') out.status = res.statusCode;
  return out;
}

function emit(log: Logger, level: Level, obj: unknown, msg: unknown): void {
  if (!log.isLevelEnabled(level)) return;
  if (typeof obj === 'string') return log[level](msg === undefined ? obj : `${obj} ${String(msg)}`);
  const f = fields(obj);
  const text = msg === undefined ? undefined : String(msg);
  if (f) log[level](f, text);
  else log[level](text ?? String(obj));
}

/** A plugin's logger: a pino child tagged with the plugin name. */
export function createPluginLogger(base: Logger, plugin: string): PluginLogger {
  const log = base.child({ plugin });
  const noop = (): undefined => undefined;
  return {
    trace: (obj, msg) => emit(log, 'trace', obj, msg),
    debug: (obj, msg) => emit(log, 'debug', obj, msg),
    info: (obj, msg) => emit(log, 'info', obj, msg),
    warn: (obj, msg) => emit(log, 'warn', obj, msg),
    error: (obj, msg) => emit(log, 'error', obj, msg),
    eventLog(obj, msg) {
      const level = (obj?.level ?? 'info') as Level;
      emit(log, LEVELS.has(level) && level !== ('fatal' as Level) ? level : 'info', obj, msg);
    },
    consoleLog(level, obj, ...msgs) {
      const lv = (LEVELS.has(level) ? level : 'info') as Level;
      const component = typeof obj === 'object' && obj ? obj.component : undefined;
      const text = (typeof obj === 'string' ? [obj, ...msgs] : msgs)
        .map((m) => (typeof m === 'string' ? m : JSON.stringify(m)))
        .join(' ');
      emit(log, lv, component ? { component } : {}, text);
    },
    stats: (info, msg) => emit(log, 'info', info, msg),
    setLevel(level) {
      if (LEVELS.has(level)) log.level = level;
      else if (level === 'none') log.level = 'silent';
    },
    writeLogRecord(record, cb) {
      emit(log, 'info', record, undefined);
      cb?.();
    },
    setTransactionContext: noop,
    // edgemicro's tracing helpers (OpenTracing spans): accepted and ignored.
    traceHelper: new Proxy({} as Record<string, (...args: unknown[]) => unknown>, { get: () => noop }),
  };
}

/** edgemicro's counters, shared by the plugins of one pipeline. */
export function createPluginStats(): PluginStats {
  const s: StatsSnapshot = {
    treqErrors: 0,
    tresErrors: 0,
    statusCodes: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 },
    requests: 0,
    responses: 0,
    connections: 0,
  };
  return {
    getStats: () => ({ ...s, statusCodes: { ...s.statusCodes } }),
    incrementRequestCount: () => void s.requests++,
    incrementResponseCount: () => void s.responses++,
    incrementRequestErrorCount: () => void s.treqErrors++,
    incrementResponseErrorCount: () => void s.tresErrors++,
    incrementStatusCount(code) {
      const bucket = String(Math.floor(code / 100)) as keyof StatsSnapshot['statusCodes'];
      if (bucket in s.statusCodes) s.statusCodes[bucket]++;
    },
  };
}
