// nginx `auth_request`: a GET subrequest to an internal location, carrying the client's headers and
// no body. Its status decides (2xx allow, 401/403 deny, else 500) and its response headers feed
// `auth_request_set` through `$upstream_http_*`.
import type { IncomingHttpHeaders } from 'node:http';
import { ResponseCache } from '../upstream/response-cache.js';
import { upstreamHeaders, upstreamPath } from './proxy-request.js';
import type { RequestContext } from './request-context.js';
import type { HandlerDeps } from './handler-deps.js';
import { cacheFor, resolveTarget } from './targets.js';

export type SubrequestDone = (status: number, headers: IncomingHttpHeaders) => void;

export function runSubrequest(
  ctx: RequestContext,
  deps: HandlerDeps,
  uri: string,
  done: SubrequestDone,
): void {
  // The subrequest sees the main request's variables through the prototype chain but routes on its own URI.
  const sub = Object.create(ctx) as RequestContext;
  sub.uri = uri;
  sub.args = '';
  sub.hasQuery = false;
  sub.rewritten = true;
  sub.method = 'GET';
  sub.internal = true;
  sub.captures = null;
  const sel = ctx.server!.router.select(uri);
  if (!sel) return done(500, {});
  sub.route = sel.route;
  if (sel.captures) sub.captures = sel.captures;
  const outcome = sel.route.rewrite?.(sub);
  if (outcome?.kind === 'return') return done(outcome.status, {});
  const action = sel.route.action;
  if (action.type === 'return') return done(action.status, {});
  const target = resolveTarget(sub, action);
  if (!target) return done(500, {});
  const path = upstreamPath(sub, action, target);
  const headers = upstreamHeaders(sub, action, target, ctx.snapshot);
  const pool = deps.pools.get(target);
  const fetch = () =>
    ResponseCache.fetch(pool, target.origin, 'GET', path, headers, target.options.readTimeoutMs);
  let result;
  if (action.cache)
    result = cacheFor(deps, action).get(action.cache.key.evaluate(sub), action.cache.validMs, fetch);
  else result = fetch();
  result.then(
    (r) => done(r.status, r.headers),
    () => done(500, {}),
  );
}
