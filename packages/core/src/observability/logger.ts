// Logging: pino JSON lines. Secrets never reach a log line: known secret-bearing fields are redacted
// by path, and query strings in URIs are scrubbed of credential-like parameters before logging.
import { pino, type Logger } from 'pino';
import type { LogConfig } from '../config/types.js';

export type { Logger };

const REDACT = [
  'key',
  'passphrase',
  'password',
  'secret',
  'token',
  'authorization',
  '*.key',
  '*.passphrase',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];

export function createLogger(config: LogConfig | undefined, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: config?.level ?? 'info',
    base: { name: 'gatehouse' },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

const SECRET_PARAM =
  /([?&](?:api[_-]?key|apikey|key|sig|signature|token|access_token|refresh_token|id_token|password|passwd|secret|client_secret|code|sv|se|sr|sp|skoid|sktid)=)[^&#]*/gi;

/** A request target safe to log: credential-like query parameters are replaced by `***`. */
export function scrubTarget(target: string): string {
  return target.includes('?') ? target.replace(SECRET_PARAM, '$1***') : target;
}
