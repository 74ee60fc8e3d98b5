// nginx's `client_body_timeout` and `send_timeout`: the time between two successive reads of a
// request body, or two successive writes of a response to a client that does not take them, never
// the whole transfer's. No timer and no clock read per chunk: the acceptor's sweep compares a
// connection's progress counter with what the previous sweep saw; a counter that has not moved is a
// stall, dated from the first sweep that saw it unchanged. A stall is thus noticed at least the
// timeout after the last progress (never early) and at most one sweep after that.
import type { Socket } from 'node:net';

export class StallWatch {
  private mark = -1;
  private since = 0;

  /** How long `progress` has not moved, as seen by successive calls (0 when it just moved). */
  stalledFor(progress: number, now: number): number {
    if (progress !== this.mark) {
      this.mark = progress;
      this.since = now;
      return 0;
    }
    return now - this.since;
  }

  /** Nothing to watch (reading paused by the engine, nothing waiting to be written): start afresh. */
  reset(): void {
    this.mark = -1;
  }
}

/** Bytes of the response the socket has handed on (written minus those still buffered), or -1 when
 *  nothing is waiting to be written: only a write that waits on the client can stall. */
export function sendProgress(socket: Socket): number {
  const pending = socket.writableLength;
  return pending === 0 ? -1 : socket.bytesWritten - pending;
}

/** Cut a connection whose client stopped reading. A plain close would leave what is unsent in the
 *  kernel, queued behind a window that never opens, until the kernel gives up on it: a reset frees it
 *  now (nginx `reset_timedout_connection`). A TLS socket, whose handle is not TCP's, is only closed. */
export function resetConnection(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
