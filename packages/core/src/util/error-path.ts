// Every stream the engine creates gets an 'error' listener when it is made, before anyone reads it:
// a stream's 'error' with no listener is thrown by node's EventEmitter and ends the process, with
// every other request in it. The exchange that owns the stream learns of the failure by its own path
// (the client's 'close', the upstream connection's body listeners, a limit's callback); this listener
// only keeps the error inside that exchange.
import type { EventEmitter } from 'node:events';

const keepInside = (): void => undefined;

/** Give `stream` its error path from birth; returns it. */
export function withErrorPath<T extends EventEmitter>(stream: T): T {
  stream.on('error', keepInside);
  return stream;
}
