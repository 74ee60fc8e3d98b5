// The plugin contract as plugins see it: edgemicro's callback form (`init(config, logger, stats)`
// returning `on<event>` handlers dispatched by arity) and the typed, promise-based native form.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { UrlWithParsedQuery } from 'node:url';

/** edgemicro event names, in the order a proxied POST fires them (close/error only when they happen). */
export const EDGEMICRO_EVENTS = [
  'onrequest',
  'ondata_request',
  'onend_request',
  'onerror_request',
  'onclose_request',
  'onresponse',
  'ondata_response',
  'onend_response',
  'onerror_response',
  'onclose_response',
] as const;

export type EdgemicroEvent = (typeof EDGEMICRO_EVENTS)[number];

/** What a hook receives as `data`: null (onrequest/onresponse/onclose), a chunk, the accumulated
 *  end value, or the Error (onerror_*). */
export type HookData = Buffer | string | Error | null;

/** `next()` continue · `next(err)` fail · `next(true)` stop (the plugin answered) · `next(null, data)` replace. */
export type Next = (err?: unknown, data?: Buffer | string | null) => void;

/** The client request as plugins see it: node's request with the fields edgemicro's core sets. */
export interface PluginRequest extends IncomingMessage {
  reqStartTimestamp: number;
  /** `url.parse(req.url, true)`, computed on first access. */
  reqUrl: UrlWithParsedQuery;
  /** Upstream host, port, path (with query) and scheme; plugins may change them in `onrequest`. */
  targetHostname: string;
  targetPort: number;
  targetPath: string;
  targetSecure: boolean;
  targetTimeout: number | undefined;
  /** The decoded, normalised path (no query) the engine routed on: what authorisation must check,
   *  since `req.url` is the raw target a client may have spelled ambiguously. */
  routedPath: string;
  [field: string]: unknown;
}

/** The matched route in edgemicro's proxy shape (`res.proxy`). */
export interface ProxyInfo {
  name: string;
  base_path: string;
  url: string;
  secure: boolean;
  timeout: number | undefined;
  [field: string]: unknown;
}

export interface PluginResponse extends ServerResponse {
  proxy: ProxyInfo;
  [field: string]: unknown;
}

/** Head of the upstream response (response-phase hooks). */
export interface TargetResponse {
  statusCode: number;
  statusMessage: string;
  /** Lower-cased names; delete a key in `onresponse` to drop that header from the client response. */
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export type Handler3 = (req: PluginRequest, res: PluginResponse, next: Next) => void;
export type Handler4 = (req: PluginRequest, res: PluginResponse, data: HookData, next: Next) => void;
export type Handler5 = (
  req: PluginRequest,
  res: PluginResponse,
  targetResponse: TargetResponse | null,
  data: HookData,
  next: Next,
) => void;
/** Dispatched by `Function.length`: 3, 4 or 5 parameters; any other arity is called without arguments (edgemicro). */
export type EdgemicroHandler = Handler3 | Handler4 | Handler5 | (() => void);

export type EdgemicroHandlers = { [E in EdgemicroEvent]?: EdgemicroHandler } & { id?: string };

/** The config a plugin's `init` receives: its own section plus the shared sections edgemicro passes. */
export interface PluginConfig {
  [key: string]: unknown;
  /** Top-level sections that are neither plugin names nor `quotas` (`edgemicro`, `proxies`, `headers`, …). */
  emgConfigs?: Record<string, unknown>;
  key?: string;
  secret?: string;
}

/** The logger edgemicro hands to plugins (`trace|debug|info|warn|error(obj, msg)` and friends). */
export interface PluginLogger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  eventLog(obj: EventLogRecord, msg?: string): void;
  consoleLog(level: string, obj: { component?: string } | string, ...msgs: unknown[]): void;
  stats(info: unknown, msg?: string): void;
  setLevel(level: string): void;
  writeLogRecord(record: unknown, cb?: (err?: Error) => void): void;
  setTransactionContext(...args: unknown[]): void;
  traceHelper: Record<string, (...args: unknown[]) => unknown>;
}

export interface EventLogRecord {
  level?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  err?: unknown;
  component?: string;
  [field: string]: unknown;
}

export interface StatsSnapshot {
  treqErrors: number;
  tresErrors: number;
  statusCodes: Record<'1' | '2' | '3' | '4' | '5', number>;
  requests: number;
  responses: number;
  connections: number;
}

/** edgemicro's in-memory counters. */
export interface PluginStats {
  getStats(): StatsSnapshot;
  incrementRequestCount(): void;
  incrementResponseCount(): void;
  incrementRequestErrorCount(): void;
  incrementResponseErrorCount(): void;
  incrementStatusCount(code: number): void;
}

/** A module the edgemicro way: `init` (or the module itself) returns the handlers. */
export type EdgemicroPluginModule =
  | { init(config: PluginConfig, logger: PluginLogger, stats: PluginStats): EdgemicroHandlers }
  | ((config: PluginConfig, logger: PluginLogger, stats: PluginStats) => EdgemicroHandlers);

/** A plugin after `init`: its name and handlers, ready for the pipeline. */
export interface LoadedPlugin {
  readonly name: string;
  readonly handlers: EdgemicroHandlers;
}

// ---- native (typed, promise-based) form ----

/** What native hooks receive. */
export interface HookContext {
  readonly req: PluginRequest;
  readonly res: PluginResponse;
  /** Upstream response head; undefined in request-phase hooks. */
  readonly targetResponse: TargetResponse | undefined;
  /** Answer the client now (JSON-encodes objects); the chain stops and, in the request phase, the upstream is not called. */
  respond(status: number, body?: string | Buffer | object, headers?: OutgoingHttpHeaders): void;
  /** A request field (`name` lower-case) as `req.headers[name]` holds it, a list joined by ", ".
   *  Unlike `req.headers`, it does not make the engine build node's headers object. */
  requestHeader(name: string): string | undefined;
  /** Set the request field `name` (lower-case) to one line with `value`, or remove it (undefined),
   *  before it is forwarded; seen by later hooks in `req.headers` too. */
  setRequestHeader(name: string, value: string | undefined): void;
}

/** A data hook's result: a replacement chunk, `null` to drop it, `undefined` (or nothing) to keep it. */
export type ChunkResult = Buffer | string | null | undefined | void;

type Awaitable<T> = T | Promise<T>;

/** The same hooks as edgemicro's, typed and async; a throw or rejection is a plugin error. */
export interface NativeHooks {
  onRequest?(ctx: HookContext): Awaitable<void>;
  onRequestData?(ctx: HookContext, chunk: Buffer | string): Awaitable<ChunkResult>;
  /** `data` is what the previous end hook produced (null at the start of the chain). */
  onRequestEnd?(ctx: HookContext, data: Buffer | string | null): Awaitable<ChunkResult>;
  onRequestError?(ctx: HookContext, err: Error): Awaitable<void>;
  onRequestClose?(ctx: HookContext): Awaitable<void>;
  onResponse?(ctx: HookContext): Awaitable<void>;
  onResponseData?(ctx: HookContext, chunk: Buffer | string): Awaitable<ChunkResult>;
  onResponseEnd?(ctx: HookContext, data: Buffer | string | null): Awaitable<ChunkResult>;
  onResponseError?(ctx: HookContext, err: Error): Awaitable<void>;
  onResponseClose?(ctx: HookContext): Awaitable<void>;
}

/** A native plugin: a name and an `init` returning typed hooks. */
export interface NativePlugin {
  readonly name: string;
  init(config: PluginConfig, logger: PluginLogger, stats: PluginStats): Awaitable<NativeHooks>;
}
