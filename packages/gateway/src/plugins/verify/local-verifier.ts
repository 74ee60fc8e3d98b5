// verifyApiKey in standalone mode: the key is looked up in the local apps and, when approved and
// unexpired, a token is signed like edgemicro-auth's (RS256; aud microgateway; iss, iat, nbf, exp,
// client_id, application_name, developer_email, api_product_list).
import { createPrivateKey, sign } from 'node:crypto';
import type { ApiKeyVerdict, ApiKeyVerifier, StandaloneData } from '../../control-plane/types.js';

interface Grant {
  readonly app: StandaloneData['apps'][number];
  readonly expiresAt: number | undefined;
}

const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function createLocalVerifier(data: StandaloneData, now: () => number = Date.now): ApiKeyVerifier {
  const key = createPrivateKey(data.signing.privateKeyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('standalone signing key is not an RSA key');
  const grants = new Map<string, Grant>();
  for (const app of data.apps)
    for (const c of app.credentials)
      if ((c.status ?? 'approved') === 'approved') grants.set(c.key, { app, expiresAt: c.expires_at });
  const header = b64({ alg: 'RS256', typ: 'JWT', ...(data.signing.kid ? { kid: data.signing.kid } : {}) });
  return {
    verify(apiKey: string): Promise<ApiKeyVerdict> {
      const g = grants.get(apiKey);
      const t = now();
      if (!g || (g.expiresAt !== undefined && g.expiresAt <= t))
        return Promise.resolve({ ok: false, status: 401, statusText: 'Unauthorized' });
      const iat = Math.floor(t / 1000);
      const claims = {
        application_name: g.app.name,
        client_id: apiKey,
        developer_email: g.app.developer_email,
        api_product_list: [...g.app.products],
        iss: data.signing.issuer,
        aud: 'microgateway',
        iat,
        nbf: iat,
        exp: iat + Math.floor(data.signing.tokenLifetimeMs / 1000),
      };
      const input = `${header}.${b64(claims)}`;
      const sig = sign('sha256', Buffer.from(input), key).toString('base64url');
      return Promise.resolve({ ok: true, token: `${input}.${sig}` });
    },
  };
}
