// What the gateway knows about the API programme it guards, whatever the source: the Edge control
// plane (bootstrap, products, public keys), a local-proxy synthesis, or the standalone file. The
// runtime, the config translation and the built-in plugins read only these shapes, so every source
// feeds the same code paths.

/** One proxy as edgemicro's runtime holds it (reference §1.6), after the bootstrap is mapped. */
export interface EdgeProxy {
  /** `apiProxyName`, e.g. `edgemicro_hello`. */
  readonly name: string;
  readonly revision: string;
  /** `proxyEndpoint.name` (`default`). */
  readonly proxy_name: string;
  /** Routing prefix, e.g. `/hello`. */
  readonly base_path: string;
  /** `targetEndpoint.name` (`default`). */
  readonly target_name: string;
  /** Target URL, e.g. `http://backend:8080/`. */
  readonly url: string;
  readonly max_connections: number;
  /** Target timeout in milliseconds (bootstrap `targetEndpoint.timeout`), overriding `request_timeout`. */
  readonly timeout?: number;
}

export type QuotaTimeUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** An API product (reference §4.3) with its quota fields already parsed ("null" strings dropped). */
export interface EdgeProduct {
  readonly name: string;
  // Resource patterns relative to a proxy's base path: `/`, `/**`, `/*`, `/a/*/b`. Empty: every path.
  readonly apiResources: readonly string[];
  /** Names of the proxies the product covers. */
  readonly proxies: readonly string[];
  readonly environments: readonly string[];
  readonly scopes: readonly string[];
  readonly quota?: {
    readonly allow: number;
    readonly interval: number;
    readonly timeUnit: QuotaTimeUnit;
  };
}

/** Keys used to verify the JWTs the gateway accepts (RS256 only). */
export interface VerificationKeys {
  /** PEM of `jwt_public_key` (an X.509 certificate or a public key). */
  readonly publicKeyPem?: string;
  /** `jwk_public_keys`: RSA keys selected by the token's `kid`. */
  readonly jwks?: readonly JsonWebKeyRecord[];
}

export interface JsonWebKeyRecord {
  readonly kty: string;
  readonly n?: string;
  readonly e?: string;
  readonly alg?: string;
  readonly use?: string;
  readonly kid?: string;
}

/** Everything downloaded from (or synthesised for) the control plane at one poll. */
export interface EdgeData {
  readonly proxies: readonly EdgeProxy[];
  readonly products: readonly EdgeProduct[];
  readonly keys: VerificationKeys;
}

/** The answer to "is this API key valid?" (reference §4.5): Edge's 200 `{"token": JWT}`, or its refusal. */
export type ApiKeyVerdict =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly status: number; readonly statusText: string };

/** verifyApiKey as a service: Edge over HTTP, or the standalone store signing locally. A network
 *  failure rejects (the oauth plugin answers 504 `gateway_timeout`, or fails open when configured). */
export interface ApiKeyVerifier {
  verify(apiKey: string): Promise<ApiKeyVerdict>;
}

// ---- standalone mode: the local file that replaces Apigee Edge ----

/** A developer app and its credentials in the standalone file. */
export interface StandaloneApp {
  readonly name: string;
  readonly developer_email: string;
  /** Product names this app's keys are approved for. */
  readonly products: readonly string[];
  readonly credentials: readonly {
    readonly key: string;
    readonly secret?: string;
    /** Epoch milliseconds after which the key is refused; absent: never. */
    readonly expires_at?: number;
    /** `revoked` keys are refused like unknown ones. Default `approved`. */
    readonly status?: 'approved' | 'revoked';
  }[];
}

/** The parsed standalone file: proxies and products as Edge would serve them, plus what Edge keeps
 *  to itself (apps, keys, the token-signing key). */
export interface StandaloneData extends EdgeData {
  readonly apps: readonly StandaloneApp[];
  readonly signing: {
    /** PEM of the RSA private key that signs tokens (RS256). */
    readonly privateKeyPem: string;
    readonly kid?: string;
    /** Token lifetime in milliseconds (edgemicro-auth default: 1,800,000). */
    readonly tokenLifetimeMs: number;
    /** `iss` claim of the tokens it signs. */
    readonly issuer: string;
  };
}
