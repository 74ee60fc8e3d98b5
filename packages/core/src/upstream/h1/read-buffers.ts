// Reusable 64 KiB read buffers for plain-TCP upstream sockets. A socket that allocates a buffer
// per read (node's default) creates external memory faster than the engine's lean JS path
// triggers young-generation collections, and V8 then runs full collections to free it (52 in
// 5 s at 1 MiB × 8 streams). Buffers lent with a body chunk come back when the client write
// that carried them has completed; a read whose chunks are out on loan is a lease.
const SIZE = 64 * 1024;
/** Free buffers kept (4 MiB); beyond that a returned buffer is left to the garbage collector. */
const MAX_FREE = 64;
const free: Buffer[] = [];

export function takeReadBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(SIZE);
}

export function returnReadBuffer(buffer: Buffer): void {
  if (free.length < MAX_FREE) free.push(buffer);
}

/** The chunks of one pooled read buffer out on loan, plus one for the read itself (-1: kept). */
export interface ReadLease {
  buffer: Buffer;
  count: number;
  /** Given with each chunk: settles one of them. */
  release: () => void;
}

export function settle(lease: ReadLease): void {
  if (lease.count > 0 && --lease.count === 0) returnReadBuffer(lease.buffer);
}

export function newLease(buffer: Buffer): ReadLease {
  const lease: ReadLease = { buffer, count: 1, release: () => undefined };
  lease.release = () => settle(lease);
  return lease;
}
