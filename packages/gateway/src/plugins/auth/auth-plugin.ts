// One engine for the three edgemicro auth plugins: `oauth` (Bearer JWT or API key), `oauthv2` (JWT
// only) and `apikeys` (API key only). Everything per poll (keys, product patterns, options) is
// compiled in init; a request costs header reads, a cache lookup and glob matches.
import { definePlugin, type HookContext, type NativePlugin, type PluginRequest } from '@gatehouse/core';
import type { ApiKeyVerdict } from '../../control-plane/types.js';
import type { GatewayPluginContext } from '../context.js';
import { buildKeySet } from '../jwt/keys.js';
import { JwtError, JwtVerifier, type Claims } from '../jwt/verify.js';
import { compileExcludeUrls } from '../resource-match/exclude-urls.js';
import { bool, num, sectionOf, str, strings } from '../shared/options.js';
import type { CachingVerifier } from '../verify/key-cache.js';
import { VerifyApiKeyError } from '../verify/edge-verifier.js';
import { compileAuthorizer } from './authorize.js';
import { authError } from './errors.js';

export type AuthKind = 'oauth' | 'oauthv2' | 'apikeys';

const BEARER = /^Bearer (.+)$/;
// Headers some servers and frameworks take as the real request path: never forwarded.
const PATH_OVERRIDES = ['x-original-url', 'x-rewrite-url', 'x-forwarded-path', 'x-original-uri'];
/** Claims not repeated in x-authorization-claims (edgemicro). */
const OMITTED_CLAIMS = new Set(['application_name', 'client_id', 'api_product_list', 'iat', 'exp']);

// Verified claims objects are cached with their token, so the header is built once per token.
const claimsHeaders = new WeakMap<Claims, string>();
function claimsHeader(claims: Claims): string {
  let h = claimsHeaders.get(claims);
  if (h === undefined) {
    const visible: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(claims)) if (!OMITTED_CLAIMS.has(k)) visible[k] = v;
    h = Buffer.from(JSON.stringify(visible)).toString('base64');
    claimsHeaders.set(claims, h);
  }
  return h;
}

function single(v: string | undefined): string | undefined {
  return v !== '' ? v : undefined;
}

export function createAuthPlugin(
  kind: AuthKind,
  gctx: GatewayPluginContext,
  keyCache: CachingVerifier | undefined,
): NativePlugin {
  return definePlugin({
    name: kind,
    init(initConfig) {
      // EDGEMICRO_LOCAL: edgemicro bypasses the auth plugins; so do we (no credentials exist).
      if (gctx.mode === 'local') return {};
      const s = sectionOf(gctx.config, kind, initConfig);
      const o = {
        authHeader: str(s, kind, 'authorization-header', 'authorization').toLowerCase(),
        apiKeyHeader: str(s, kind, 'api-key-header', 'x-api-key').toLowerCase(),
        keepAuth: bool(s, kind, 'keep-authorization-header', false),
        keepApiKey: bool(s, kind, 'keep-api-key', false),
        allowNoAuth: bool(s, kind, 'allowNoAuthorization', false),
        allowInvalid: bool(s, kind, 'allowInvalidAuthorization', false),
        oauthOnly: bool(s, kind, 'allowOAuthOnly', false),
        apiKeyOnly: bool(s, kind, 'allowAPIKeyOnly', false),
        useUpstream: bool(s, kind, 'useUpstreamResponse', false),
        failOpen: bool(s, kind, 'failOpen', false),
        failOpenGraceMs: num(s, kind, 'failopenGraceInterval', 0) * 1000,
      };
      const jwt = new JwtVerifier(buildKeySet(gctx.edge.keys), {
        gracePeriodSec: num(s, kind, 'gracePeriod', 0),
        audience: 'microgateway',
        issuer: str(s, kind, 'iss'),
        // Verified signatures are always cached (`tokenCache` is implied); claims are re-checked per request.
        cacheSize: num(s, kind, 'tokenCacheSize', 1000, 1),
      });
      const authorize = compileAuthorizer(gctx.edge.products, {
        productOnly: bool(s, kind, 'productOnly', false) || gctx.mode === 'local-proxy',
        exactCase: bool(s, kind, 'exactResourceCase', false),
      });
      const excluded = compileExcludeUrls(strings(s, kind, 'excludeUrls'));

      const fail = authError;
      // apikeys answers these two without a description (edgemicro).
      const terse = (text: string): string | undefined => (kind === 'apikeys' ? undefined : text);

      /** Verified token → entitled product → request decorated; else the error answer. */
      const admit = (ctx: HookContext, token: string, viaApiKey: boolean, nowMs?: number): void => {
        const req = ctx.req;
        let claims: Claims;
        try {
          claims = jwt.verify(token, nowMs);
        } catch (err) {
          if (o.allowInvalid) return;
          if (!(err instanceof JwtError)) throw err;
          if (viaApiKey && err.failure === 'unparseable')
            return kind === 'apikeys'
              ? fail(ctx, 'access_denied', 'apikeys plugin failed to parse token in verify')
              : fail(ctx, 'invalid_token', 'token could not be parsed');
          return fail(ctx, 'invalid_token', terse('invalid_token'));
        }
        const proxy = ctx.res.proxy;
        const product = authorize(claims.api_product_list, proxy.name, proxy.base_path, req.routedPath);
        if (product === undefined) return fail(ctx, 'access_denied', terse('access_denied'));
        ctx.setRequestHeader('x-authorization-claims', claimsHeader(claims));
        req.token = claims;
        req.api_product = product;
      };

      const judge = (ctx: HookContext, verdict: ApiKeyVerdict, nowMs?: number): void => {
        if (!verdict.ok) {
          if (o.useUpstream && kind === 'oauth')
            return authError(ctx, 'upstream_error', verdict.statusText, verdict.status);
          return fail(ctx, 'access_denied', verdict.statusText);
        }
        admit(ctx, verdict.token, true, nowMs);
      };

      const verifyApiKey = async (ctx: HookContext, keys: CachingVerifier, apiKey: string): Promise<void> => {
        let verdict: ApiKeyVerdict;
        let nowMs: number | undefined;
        try {
          verdict = await keys.verify(apiKey);
        } catch (err) {
          const stale = o.failOpen ? keys.stale(apiKey, o.failOpenGraceMs) : undefined;
          if (!stale) {
            const message = err instanceof Error ? err.message : String(err);
            if (err instanceof VerifyApiKeyError && message === 'empty response received')
              return fail(ctx, 'internal_server_error', message);
            return fail(ctx, 'gateway_timeout', message);
          }
          // Fail open: the last good token, judged at its own expiry.
          verdict = stale.verdict;
          nowMs = stale.expiresAt - 1;
          ctx.req['oauth-failed-open'] = true;
        }
        judge(ctx, verdict, nowMs);
      };

      /** A cached key is judged synchronously: the hook returns no promise (no microtask). */
      const exchangeApiKey = (ctx: HookContext, apiKey: string): void | Promise<void> => {
        if (!keyCache) return fail(ctx, 'invalid_request', 'API Key Verification URL not configured');
        const hit = keyCache.cached(apiKey);
        return hit ? judge(ctx, hit) : verifyApiKey(ctx, keyCache, apiKey);
      };

      const bearer = (ctx: HookContext, value: string): void => {
        const m = BEARER.exec(value);
        if (!m && !o.allowInvalid) return fail(ctx, 'invalid_request', 'Invalid Authorization header');
        if (!o.keepAuth) ctx.setRequestHeader(o.authHeader, undefined);
        admit(ctx, m ? m[1]! : '', false);
      };

      const queryKey = (req: PluginRequest): string | undefined => {
        const v = req.reqUrl.query[o.apiKeyHeader];
        return typeof v === 'string' && v !== '' ? v : undefined;
      };

      return {
        onRequest(ctx) {
          const req = ctx.req;
          for (const h of PATH_OVERRIDES) ctx.setRequestHeader(h, undefined);
          // Only this plugin may say what the claims are.
          ctx.setRequestHeader('x-authorization-claims', undefined);
          if (excluded(req)) return;
          const auth = single(ctx.requestHeader(o.authHeader));
          const keyHeader = single(ctx.requestHeader(o.apiKeyHeader));

          if (kind === 'oauthv2') {
            if (!auth)
              return o.allowNoAuth
                ? undefined
                : fail(ctx, 'missing_authorization', 'Missing Authorization header');
            return bearer(ctx, auth);
          }
          if (kind === 'apikeys') {
            const apiKey = keyHeader ?? queryKey(req);
            if (!apiKey)
              return o.allowNoAuth ? undefined : fail(ctx, 'missing_authorization', 'Missing API Key header');
            if (keyHeader && !o.keepApiKey) ctx.setRequestHeader(o.apiKeyHeader, undefined);
            return exchangeApiKey(ctx, apiKey);
          }
          // oauth
          if (o.oauthOnly) {
            if (!auth)
              return o.allowNoAuth
                ? undefined
                : fail(ctx, 'missing_authorization', 'Missing Authorization header');
            if (!BEARER.test(auth)) return fail(ctx, 'invalid_request', 'Invalid Authorization header');
            return bearer(ctx, auth);
          }
          if (o.apiKeyOnly && !keyHeader) return fail(ctx, 'invalid_authorization', 'Missing API Key header');
          if (!auth || o.apiKeyOnly) {
            const apiKey = keyHeader ?? queryKey(req);
            if (apiKey) return exchangeApiKey(ctx, apiKey);
            return o.allowNoAuth
              ? undefined
              : fail(ctx, 'missing_authorization', 'Missing Authorization header');
          }
          return bearer(ctx, auth);
        },
      };
    },
  });
}
