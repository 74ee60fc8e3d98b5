// What a route's plugins change about its upstream exchange, decided by their request hooks before
// the dispatch: the engine's forward (server/forward.ts) applies it, so a request with plugins takes
// the same path as one without (one body limit, one Expect answer, one relay, one error path).
import type { UpstreamTarget } from '../config/compile.js';
import type { UpstreamHandler } from '../upstream/dispatcher.js';
import type { ResponseRelay } from './relay.js';

export interface ExchangeInterceptor {
  /** The upstream, as the request hooks left it. */
  readonly target: UpstreamTarget;
  /** The request target sent upstream, as the request hooks left it. */
  readonly path: string;
  /** Request body hooks run: the body may change size, so it is sent without the client's length. */
  readonly transformsBody: boolean;
  /** A body the end hooks produced for a request that had none (null: none). */
  readonly bodyBuffer: Buffer | null;
  /** The request body as the upstream receives it (called only when `transformsBody`). */
  requestBody(body: NodeJS.ReadableStream): NodeJS.ReadableStream;
  /** The handler the upstream client calls: the response hooks around the engine's relay (the relay
   *  itself when no response hook exists). */
  wrap(relay: ResponseRelay): UpstreamHandler;
}
