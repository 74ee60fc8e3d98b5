// What a client sees of an error the engine answers with: one renderer per server or route, chosen by
// name in the native config; products register their own (the gateway renders edgemicro's bodies).
// Renderers run only on the error path. A renderer that throws or returns something that cannot be
// sent is replaced by the built-in JSON one for that answer: an error must still reach the client.
import { MESSAGES, STATUS, type ErrorCode } from './codes.js';
import { pluginErrorBody } from './plugin-error-body.js';

/** What a renderer sees of an error the engine answers with. */
export interface EngineError {
  /** Stable engine code ('not_found', 'upstream_connect_failed', 'plugin_error', …). */
  readonly code: ErrorCode;
  /** The engine's status for that code (plugin_error: the status the plugin set if non-2xx, else 500). */
  readonly status: number;
  /** The engine's message for the code. */
  readonly message: string;
  readonly detail?: string;
  /** Upstream errors: the underlying Node/TLS error. plugin_error: the value passed to next(err) or thrown. */
  readonly cause?: unknown;
}

export interface RenderedError {
  readonly status: number;
  /** Fields of the answer, e.g. {'content-type': 'application/json'}; the engine adds content-length
   *  (and connection: close where it closes) itself. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export type ErrorRenderer = (error: EngineError) => RenderedError;

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** The engine's own format: `{"error": code, "message", "detail"?, "status"}`; a plugin error keeps
 *  edgemicro's body (the plugin's error as JSON, no content-type), as plugins written for it expect. */
export const jsonRenderer: ErrorRenderer = (e) => {
  if (e.code === 'plugin_error')
    return { status: e.status, headers: NO_HEADERS, body: pluginErrorBody(e.cause) };
  const body =
    e.detail === undefined
      ? JSON.stringify({ error: e.code, message: e.message, status: e.status })
      : JSON.stringify({ error: e.code, message: e.message, detail: e.detail, status: e.status });
  return { status: e.status, headers: JSON_HEADERS, body };
};

/** Renderers every engine has, by the name a config uses. */
export const BUILTIN_RENDERERS: Readonly<Record<string, ErrorRenderer>> = Object.freeze({
  json: jsonRenderer,
});

export const DEFAULT_RENDERER = 'json';

/** The EngineError for a code (status and message from the code's table). */
export function engineError(
  code: ErrorCode,
  detail?: string,
  cause?: unknown,
  status = STATUS[code],
): EngineError {
  const e: { -readonly [K in keyof EngineError]: EngineError[K] } = { code, status, message: MESSAGES[code] };
  if (detail !== undefined) e.detail = detail;
  if (cause !== undefined) e.cause = cause;
  return e;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Framing is the engine's: a renderer's copies would contradict what is actually sent. */
const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'trailer',
]);

/** The answer for `error`, with `content-length` added; falls back to the JSON renderer when the
 *  chosen one throws or returns something unsendable (bad status, field or body type). */
export function renderError(
  renderer: ErrorRenderer,
  error: EngineError,
): { status: number; headers: Record<string, string>; body: Buffer } {
  try {
    const out = checked(renderer(error));
    if (out) return out;
  } catch {
    // Fall through to the built-in format.
  }
  return checked(jsonRenderer(error))!;
}

function checked(
  r: RenderedError,
): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  if (r === null || typeof r !== 'object') return undefined;
  const { status, headers, body } = r;
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return undefined;
  const out: Record<string, string> = {};
  if (headers !== undefined) {
    if (headers === null || typeof headers !== 'object') return undefined;
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string' || !TOKEN.test(name) || !FIELD_VALUE.test(value)) return undefined;
      const lower = name.toLowerCase();
      if (!FRAMING.has(lower)) out[lower] = value;
    }
  }
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  out['content-length'] = String(bytes.length);
  return { status, headers: out, body: bytes };
}
