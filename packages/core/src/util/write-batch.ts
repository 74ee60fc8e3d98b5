// Small writes made while node runs the I/O callbacks of one event-loop turn leave together at its
// end: setImmediate callbacks run in the check phase, right after the poll phase that delivered the
// reads. A write to a peer on the same host (a local upstream, a sidecar, a client on loopback) wakes
// the peer when it sleeps, and on a virtual machine that wake-up is an inter-processor interrupt: a
// third of the kernel time of a proxied small request went there, write by write. Written as a
// burst, the peer is woken once for the burst (bench/ANALYSIS.md, item 17). Each write is still its
// own syscall, in the order it was made; a writer flushes its queue itself before any write it does
// not queue. The wait is bounded: after MAX_WRITERS writers in one turn, the queue is written at once.

/** A connection with writes queued for the end of the turn. */
export interface TurnEndWriter {
  /** Write what was queued, in order (also called by the writer before a write it does not queue). */
  flushWrites(): void;
}

/** Writers served per turn before the queue is written without waiting for the turn's end: the
 *  first write of a turn waits for at most this many others' work (about 20 µs each). */
const MAX_WRITERS = 32;

const due: TurnEndWriter[] = [];
let scheduled = false;
let flushing = false;

function flushDue(): void {
  scheduled = false;
  if (flushing) return;
  flushing = true;
  let failure: unknown;
  // A flush can queue more (a pipelined request answered at once): they are written in this pass.
  // A listener that throws (a response's 'finish') does not keep the other writers' bytes back.
  for (let i = 0; i < due.length; i++) {
    try {
      due[i]!.flushWrites();
    } catch (err) {
      failure ??= err;
    }
  }
  due.length = 0;
  flushing = false;
  if (failure !== undefined) throw failure;
}

/** `writer` has queued its first write of this turn: it is flushed at the turn's end. */
export function writeAtTurnEnd(writer: TurnEndWriter): void {
  due.push(writer);
  if (flushing) return;
  if (due.length >= MAX_WRITERS) flushDue();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushDue);
  }
}
