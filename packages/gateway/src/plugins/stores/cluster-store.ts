// Counters shared by all workers of one gateway: the master holds a MemoryStore and answers the
// workers over node:cluster IPC. Messages carry a distinct `type` so they never mix with the
// runtime's own messages. The runtime's master calls `attachCounterService(cluster)` once.
import type { Cluster, Worker } from 'node:cluster';
import type { CounterStore, WindowCount } from './counter-store.js';
import { MemoryStore } from './memory-store.js';

const COUNTER_REQUEST = 'gatehouse:counter:request';
const COUNTER_REPLY = 'gatehouse:counter:reply';

type Op =
  | { readonly op: 'hit'; readonly id: string; readonly windowMs: number; readonly weight: number }
  | { readonly op: 'admit'; readonly id: string; readonly intervalMs: number };

interface Request {
  readonly type: typeof COUNTER_REQUEST;
  readonly seq: number;
  readonly body: Op;
}

interface Reply {
  readonly type: typeof COUNTER_REPLY;
  readonly seq: number;
  readonly result: WindowCount | boolean;
}

function isRequest(m: unknown): m is Request {
  if (m === null || typeof m !== 'object') return false;
  const r = m as Partial<Request>;
  if (r.type !== COUNTER_REQUEST || typeof r.seq !== 'number' || !r.body) return false;
  const b = r.body as Partial<Record<string, unknown>>;
  if (typeof b.id !== 'string' || b.id.length > 1024) return false;
  if (b.op === 'hit') return typeof b.windowMs === 'number' && typeof b.weight === 'number';
  return b.op === 'admit' && typeof b.intervalMs === 'number';
}

/** Master side: answer every worker's counter requests from one MemoryStore. Returns a detach function. */
export function attachCounterService(cluster: Cluster, store: MemoryStore = new MemoryStore()): () => void {
  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isRequest(message)) return;
    const b = message.body;
    const result =
      b.op === 'hit' ? store.hitSync(b.id, b.windowMs, b.weight) : store.admitSync(b.id, b.intervalMs);
    if (worker.isConnected()) worker.send({ type: COUNTER_REPLY, seq: message.seq, result } satisfies Reply);
  };
  cluster.on('message', onMessage);
  return () => {
    cluster.off('message', onMessage);
    void store.close();
  };
}

class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Worker side: the same interface, answered by the master. Requests time out (the master is busy
 *  or gone) and then reject. */
export class ClusterStore implements CounterStore {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly onMessage = (m: unknown): void => {
    if (m === null || typeof m !== 'object' || (m as Reply).type !== COUNTER_REPLY) return;
    const p = this.pending.get((m as Reply).seq);
    if (!p) return;
    this.pending.delete((m as Reply).seq);
    clearTimeout(p.timer);
    p.resolve((m as Reply).result);
  };

  constructor(
    private readonly channel: NodeJS.Process = process,
    private readonly timeoutMs = 1000,
  ) {
    if (typeof channel.send !== 'function')
      throw new Error('ClusterStore needs an IPC channel (a cluster worker)');
    channel.on('message', this.onMessage);
  }

  hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    return this.call({ op: 'hit', id, windowMs, weight }) as Promise<WindowCount>;
  }

  admit(id: string, intervalMs: number): Promise<boolean> {
    return this.call({ op: 'admit', id, intervalMs }) as Promise<boolean>;
  }

  close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new StoreUnavailableError('counter store closed'));
    }
    this.pending.clear();
    return Promise.resolve();
  }

  private call(body: Op): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new StoreUnavailableError('counter service did not answer'));
      }, this.timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      const ok = this.channel.connected !== false;
      if (!ok) {
        clearTimeout(timer);
        this.pending.delete(seq);
        return reject(new StoreUnavailableError('no IPC channel to the master'));
      }
      this.channel.send!(
        { type: COUNTER_REQUEST, seq, body } satisfies Request,
        undefined,
        undefined,
        (err) => {
          if (!err) return;
          clearTimeout(timer);
          this.pending.delete(seq);
          reject(new StoreUnavailableError(`counter request not sent: ${err.message}`));
        },
      );
    });
  }
}
