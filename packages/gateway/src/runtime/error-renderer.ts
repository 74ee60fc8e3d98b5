// edgemicro's error bodies (reference §4.9), byte-exact, for core's error-renderer slot: every error
// the engine answers with on an edgemicro server goes through `renderEdgemicroError`.
//   404 no route        {"message":"no match found","status":404}   (application/json; charset=utf-8)
//   502 target error    the Node error as JSON: {"message":…,"errno":…,"code":…,"syscall":…,…}
//   504 target timeout  {"message":"Gateway timed out trying to reach target"}
//   400 header size     {"error":"header length more than allowed size"}
//   plugin error        {"message":"<err.message>"} (a string: its JSON), the plugin's status or 500
import type { EngineError, RenderedError } from '@gatehouse/core';

const JSON_UTF8 = { 'content-type': 'application/json; charset=utf-8' } as const;
const NONE = {} as const;
const UPSTREAM_502 = new Set([
  'upstream_connect_failed',
  'upstream_reset',
  'upstream_dns',
  'upstream_tls',
  'upstream_invalid_response',
]);

/** A Node error as edgemicro serialises it: message first, then the error's own enumerable fields. */
function nodeErrorJson(cause: unknown, fallback: string): string {
  if (cause instanceof Error) {
    const out: Record<string, unknown> = { message: cause.message };
    for (const [k, v] of Object.entries(cause)) if (k !== 'message' && k !== 'stack') out[k] = v;
    return JSON.stringify(out);
  }
  if (cause && typeof cause === 'object') return JSON.stringify(cause);
  return JSON.stringify({ message: fallback });
}

export function renderEdgemicroError(error: EngineError): RenderedError {
  switch (error.code) {
    case 'not_found':
      return { status: 404, headers: JSON_UTF8, body: '{"message":"no match found","status":404}' };
    case 'upstream_timeout':
      return { status: 504, headers: NONE, body: '{"message":"Gateway timed out trying to reach target"}' };
    case 'header_too_large':
      return { status: 400, headers: NONE, body: '{"error":"header length more than allowed size"}' };
    case 'plugin_error': {
      const c = error.cause;
      const body =
        c instanceof Error
          ? JSON.stringify({ message: c.message })
          : c === undefined
            ? JSON.stringify({ message: error.message })
            : JSON.stringify(c);
      return { status: error.status, headers: NONE, body };
    }
  }
  if (UPSTREAM_502.has(error.code))
    return { status: 502, headers: NONE, body: nodeErrorJson(error.cause, error.message) };
  return {
    status: error.status,
    headers: NONE,
    body: JSON.stringify({ message: error.message, status: error.status }),
  };
}
