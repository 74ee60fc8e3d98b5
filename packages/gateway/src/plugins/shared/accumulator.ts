// Body accumulation for the accumulate-* plugins: chunks kept per request (a WeakMap, nothing on
// req/res), concatenated at the end, bounded so one large body cannot exhaust memory.
export class Accumulator<K extends object> {
  private readonly parts = new WeakMap<K, { chunks: Buffer[]; size: number }>();

  constructor(private readonly maxBytes: number) {}

  add(owner: K, chunk: Buffer | string | null): void {
    if (chunk === null || chunk.length === 0) return;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let p = this.parts.get(owner);
    if (!p) this.parts.set(owner, (p = { chunks: [], size: 0 }));
    p.size += b.length;
    if (p.size > this.maxBytes)
      throw new Error(`body larger than ${this.maxBytes} bytes cannot be accumulated`);
    p.chunks.push(b);
  }

  /** Everything accumulated (null when nothing was), forgetting it. */
  take(owner: K): Buffer | null {
    const p = this.parts.get(owner);
    this.parts.delete(owner);
    return p && p.chunks.length ? Buffer.concat(p.chunks) : null;
  }
}
