// The auth plugins' error answers (reference §4.9): `{"error","error_description"}` with
// content-type application/json; the description is omitted where edgemicro omits it.
import type { HookContext } from '@gatehouse/core';

export type AuthErrorCode =
  | 'missing_authorization'
  | 'invalid_request'
  | 'invalid_authorization'
  | 'invalid_token'
  | 'access_denied'
  | 'gateway_timeout'
  | 'internal_server_error'
  | 'upstream_error';

const STATUS: Record<Exclude<AuthErrorCode, 'upstream_error'>, number> = {
  missing_authorization: 401,
  invalid_request: 400,
  invalid_authorization: 401,
  invalid_token: 401,
  access_denied: 403,
  gateway_timeout: 504,
  internal_server_error: 500,
};

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export function authError(
  ctx: HookContext,
  code: AuthErrorCode,
  description?: string,
  status?: number,
): void {
  const s = status ?? (code === 'upstream_error' ? 500 : STATUS[code]);
  ctx.respond(s, JSON.stringify({ error: code, error_description: description }), JSON_TYPE);
}
