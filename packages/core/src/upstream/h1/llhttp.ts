// Node's own llhttp binding (the parser behind node:http), used directly: it parses in C++ with no
// copy into WebAssembly memory, and in strict mode (no lenient flags) it refuses what node:http's
// client refuses — CL + TE, duplicate Content-Length, bad chunk sizes, obs-fold, bare LF.
import { createRequire } from 'node:module';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | LlhttpError;
  finish(): LlhttpError | undefined;
  remove(): void;
  free(): void;
  close(): void;
  [callback: number]: unknown;
}

export interface LlhttpError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

interface LlhttpBinding {
  new (): LlhttpParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: LlhttpBinding };

export const ResponseParser = HTTPParser;
export const RESPONSE = HTTPParser.RESPONSE;
export const kOnHeaders = HTTPParser.kOnHeaders | 0;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
export const kOnBody = HTTPParser.kOnBody | 0;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
