// The token service behind the template's `auth_request /auth` (§1.5): an HTTP server on
// 127.0.0.1:TOKEN_SERVER_PORT answering any request with `200` and `X-Token: <SAS>`. The token is
// signed once and served until half its validity is left (the template caches the answer for
// TOKEN_VALIDITY_MINUTES = half the validity, so a cached token never outlives itself); concurrent
// requests on an empty cache share one sign call. A failure answers 500 (auth_request → 500).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatSasToken, moduleResourceUri, stringToSign } from './sas-token.js';

export const TOKEN_VALIDITY_SECONDS = 3600;

export interface TokenSourceOptions {
  hubHostname: string;
  deviceId: string;
  moduleId: string;
  /** Base64 HMAC-SHA256 of the data with the module key (the workload API's sign). */
  sign: (data: string) => Promise<string>;
  validitySeconds?: number;
  now?: () => number;
}

/** A SAS token cached for half its validity, one sign call however many callers wait. */
export class TokenSource {
  private token: { value: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly resourceUri: string;

  constructor(private readonly options: TokenSourceOptions) {
    this.resourceUri = moduleResourceUri(options.hubHostname, options.deviceId, options.moduleId);
  }

  get(): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.token && now < this.token.refreshAt) return Promise.resolve(this.token.value);
    this.pending ??= this.mint(now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async mint(now: number): Promise<string> {
    const validity = this.options.validitySeconds ?? TOKEN_VALIDITY_SECONDS;
    const se = Math.floor(now / 1000) + validity;
    const sig = await this.options.sign(stringToSign(this.resourceUri, se));
    const value = formatSasToken(this.resourceUri, sig, se);
    this.token = { value, refreshAt: now + (validity * 1000) / 2 };
    return value;
  }
}

export interface TokenServer {
  port: number;
  close(): Promise<void>;
}

export async function startTokenServer(
  source: TokenSource,
  opts: { host?: string; port: number; onError?: (err: Error) => void },
): Promise<TokenServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    source.get().then(
      (token) => {
        res.writeHead(200, { 'x-token': token, 'content-length': 0 });
        res.end();
      },
      (err: Error) => {
        opts.onError?.(err);
        res.writeHead(500, { 'content-length': 0 });
        res.end();
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(opts.port, opts.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
