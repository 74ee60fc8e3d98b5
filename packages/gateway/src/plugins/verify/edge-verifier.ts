// verifyApiKey against Edge (reference §4.5): POST verify_api_key_url with {"apiKey"}, the key also
// in x-dna-api-key, Basic key:secret. 200 {"token"} is a verdict; any other status a refusal
// carrying the status text; a network failure or timeout rejects.
import http from 'node:http';
import https from 'node:https';
import type { ApiKeyVerdict, ApiKeyVerifier } from '../../control-plane/types.js';

export interface EdgeVerifierOptions {
  readonly url: string;
  readonly key: string;
  readonly secret: string;
  /** Bound on the whole exchange (ms). Default 10,000. */
  readonly timeoutMs?: number;
  /** TLS options for the call (edgemicro `agentOptions`: ca, cert, key, rejectUnauthorized). */
  readonly tls?: https.RequestOptions;
}

const MAX_BODY = 64 * 1024;

export class VerifyApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyApiKeyError';
  }
}

export function createEdgeVerifier(options: EdgeVerifierOptions): ApiKeyVerifier {
  const url = new URL(options.url);
  const client = url.protocol === 'https:' ? https : http;
  const basic = `Basic ${Buffer.from(`${options.key}:${options.secret}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    verify(apiKey: string): Promise<ApiKeyVerdict> {
      const body = JSON.stringify({ apiKey });
      return new Promise((resolve, reject) => {
        const req = client.request(url, {
          ...options.tls,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-dna-api-key': apiKey,
            authorization: basic,
          },
        });
        const timer = setTimeout(
          () => req.destroy(new VerifyApiKeyError('verifyApiKey timed out')),
          timeoutMs,
        );
        req.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new VerifyApiKeyError('verifyApiKey response too large'));
            else chunks.push(c);
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            if (status !== 200) return resolve({ ok: false, status, statusText: res.statusMessage ?? '' });
            let token: unknown;
            try {
              token = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown }).token;
            } catch {
              token = undefined;
            }
            if (typeof token !== 'string' || token === '')
              return reject(new VerifyApiKeyError('empty response received'));
            resolve({ ok: true, token });
          });
        });
        req.end(body);
      });
    },
  };
}
