// Reusable 64 KiB read buffers for plain-TCP upstream sockets. A socket that allocates a buffer
// per read (node's default) creates external memory faster than the engine's lean JS path
// triggers young-generation collections, and V8 then runs full collections to free it (52 in
// 5 s at 1 MiB × 8 streams). Buffers lent with a body chunk come back when the client write
// that carried them has completed.
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
