// Counters shared by all workers of one gateway. The master keeps the authoritative state in a
// MemoryStore and answers the workers over node:cluster IPC; the state of an identifier that one
// worker uses alone is leased to that worker, which then counts it in its own memory with no IPC
// per request (a gateway with one worker never asks the master after the first request). When
// another worker uses the identifier, the master recalls the lease, takes the state back and
// answers everyone itself; it leases again only after the identifier has been quiet elsewhere for
// CONTENTION_MS. At any moment exactly one place counts an identifier, so "exactly `allow`
// across N workers" holds. Each side sends what one event-loop turn produced as one message (a
// batch, in order), so a contended identifier costs one IPC write per turn, not per request.
// Messages carry distinct `type`s so they never mix with the runtime's own. The runtime's master
// calls `attachCounterService(cluster)` once.
import type { Cluster, Worker } from 'node:cluster';
import type { CounterStore, SpikeSlot, WindowCount } from './counter-store.js';
import { MemoryStore, type CounterState } from './memory-store.js';

const COUNTER_REQUEST = 'gatehouse:counter:request';
const COUNTER_REPLY = 'gatehouse:counter:reply';
/** Master → worker: give back the lease of `id`. */
const COUNTER_RECALL = 'gatehouse:counter:recall';
/** Worker → master: the state of a lease, recalled or given back at close (null: not held). */
const COUNTER_RETURN = 'gatehouse:counter:return';
/** Either way: the messages of one event-loop turn, in order. */
const COUNTER_BATCH = 'gatehouse:counter:batch';
/** Bound on the items of one batch a receiver accepts. */
const MAX_BATCH = 100_000;

/** After a recall, the identifier is answered by the master for at least this long. */
const CONTENTION_MS = 1000;
/** A recalled worker that does not answer in time loses the lease (its counts since the grant). */
const RECALL_TIMEOUT_MS = 500;

type Op =
  | { readonly op: 'hit'; readonly id: string; readonly windowMs: number; readonly weight: number }
  | { readonly op: 'reserve'; readonly id: string; readonly intervalMs: number; readonly maxQueued: number }
  | { readonly op: 'release'; readonly id: string; readonly slot: number; readonly intervalMs: number };

type Result = WindowCount | SpikeSlot | null;

interface Request {
  readonly type: typeof COUNTER_REQUEST;
  readonly seq: number;
  readonly body: Op;
  /** The worker would keep this identifier's state. */
  readonly lease: boolean;
}

interface Reply {
  readonly type: typeof COUNTER_REPLY;
  readonly seq: number;
  /** The answer, or absent when `local`: the worker holds the lease and answers itself. */
  readonly result?: Result;
  readonly local?: true;
  /** Granted with this reply: the identifier's state, now the worker's to keep. */
  readonly lease?: CounterState;
}

interface Recall {
  readonly type: typeof COUNTER_RECALL;
  readonly id: string;
}

interface Return {
  readonly type: typeof COUNTER_RETURN;
  readonly id: string;
  readonly state: CounterState | null;
}

interface Batch<T> {
  readonly type: typeof COUNTER_BATCH;
  readonly items: readonly T[];
}

function batchItems(m: unknown): readonly unknown[] | undefined {
  if (m === null || typeof m !== 'object' || (m as Partial<Batch<unknown>>).type !== COUNTER_BATCH) return;
  const items = (m as Partial<Batch<unknown>>).items;
  return Array.isArray(items) && items.length <= MAX_BATCH ? items : undefined;
}

/** Messages queued during one event-loop turn and sent together once it ends (setImmediate). */
class Outbox<T> {
  private items: T[] = [];

  constructor(private readonly send: (batch: Batch<T>, items: readonly T[]) => void) {}

  push(item: T): void {
    if (this.items.length === 0) setImmediate(this.flush);
    this.items.push(item);
  }

  readonly flush = (): void => {
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.send({ type: COUNTER_BATCH, items }, items);
  };
}

const ignoreSendError = (): void => undefined;

const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

function isRequest(m: unknown): m is Request {
  if (m === null || typeof m !== 'object') return false;
  const r = m as Partial<Request>;
  if (r.type !== COUNTER_REQUEST || typeof r.seq !== 'number' || !r.body) return false;
  const b = r.body as Partial<Record<string, unknown>>;
  if (typeof b.id !== 'string' || b.id.length > 1024) return false;
  if (b.op === 'hit') return num(b.windowMs) && num(b.weight);
  if (b.op === 'reserve') return num(b.intervalMs) && num(b.maxQueued);
  return b.op === 'release' && num(b.slot) && num(b.intervalMs);
}

function isReturn(m: unknown): m is Return {
  if (m === null || typeof m !== 'object') return false;
  const r = m as Partial<Return>;
  return r.type === COUNTER_RETURN && typeof r.id === 'string' && typeof r.state === 'object';
}

function apply(store: MemoryStore, b: Op): Result {
  if (b.op === 'hit') return store.hitSync(b.id, b.windowMs, b.weight);
  if (b.op === 'reserve') return store.reserveSync(b.id, b.intervalMs, b.maxQueued);
  store.releaseSync(b.id, b.slot, b.intervalMs);
  return null;
}

interface Lease {
  readonly owner: Worker;
  /** The state when granted: restored if the owner dies or does not answer a recall. */
  readonly granted: CounterState;
  recall?: { readonly queue: Array<{ worker: Worker; message: Request }>; readonly timer: NodeJS.Timeout };
}

/** Master side: answer every worker's counter requests from one MemoryStore, leasing identifiers
 *  used by one worker alone. Returns a detach function. */
export function attachCounterService(cluster: Cluster, store: MemoryStore = new MemoryStore()): () => void {
  const leases = new Map<string, Lease>();
  const contendedUntil = new Map<string, number>();

  const outboxes = new Map<Worker, Outbox<Reply | Recall>>();
  const send = (worker: Worker, m: Reply | Recall): void => {
    let out = outboxes.get(worker);
    if (!out)
      outboxes.set(
        worker,
        (out = new Outbox((batch) => {
          // A worker that is exiting can still look connected: its channel then fails the write
          // (EPIPE). Without a callback that error is thrown in the master; with one it is this
          // worker's, whose leases its 'exit' settles.
          if (worker.isConnected()) worker.send(batch, ignoreSendError);
        })),
      );
    out.push(m);
  };

  const mayLease = (id: string, now: number): boolean => {
    const until = contendedUntil.get(id);
    if (until === undefined) return true;
    if (until > now) return false;
    contendedUntil.delete(id);
    return true;
  };

  const settle = (id: string, state: CounterState | null): void => {
    const lease = leases.get(id);
    if (!lease) return;
    leases.delete(id);
    store.importState(id, state ?? lease.granted);
    if (!lease.recall) return;
    clearTimeout(lease.recall.timer);
    contendedUntil.set(id, Date.now() + CONTENTION_MS);
    for (const q of lease.recall.queue) handle(q.worker, q.message);
  };

  const handle = (worker: Worker, message: Request): void => {
    const b = message.body;
    const lease = leases.get(b.id);
    if (lease) {
      if (lease.recall) lease.recall.queue.push({ worker, message });
      else if (lease.owner === worker) send(worker, { type: COUNTER_REPLY, seq: message.seq, local: true });
      else {
        const timer = setTimeout(() => settle(b.id, null), RECALL_TIMEOUT_MS);
        timer.unref();
        lease.recall = { queue: [{ worker, message }], timer };
        send(lease.owner, { type: COUNTER_RECALL, id: b.id });
      }
      return;
    }
    const result = apply(store, b);
    if (message.lease && b.op !== 'release' && worker.isConnected() && mayLease(b.id, Date.now())) {
      const granted = store.exportState(b.id);
      leases.set(b.id, { owner: worker, granted });
      return send(worker, { type: COUNTER_REPLY, seq: message.seq, result, lease: granted });
    }
    send(worker, { type: COUNTER_REPLY, seq: message.seq, result });
  };

  const onMessage = (worker: Worker, message: unknown): void => {
    const items = batchItems(message);
    if (!items) return;
    for (const m of items) {
      if (isRequest(m)) handle(worker, m);
      else if (isReturn(m) && leases.get(m.id)?.owner === worker) settle(m.id, m.state);
    }
  };
  // A worker gone with leases: its counts since the grant are lost, the state at the grant stays.
  const onExit = (worker: Worker): void => {
    outboxes.delete(worker);
    for (const [id, lease] of leases) if (lease.owner === worker) settle(id, null);
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    for (const lease of leases.values()) if (lease.recall) clearTimeout(lease.recall.timer);
    void store.close();
  };
}

class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Worker side: the same interface, answered by the master or, for leased identifiers, from this
 *  worker's memory. Requests time out (the master is busy or gone) and then reject. */
export class ClusterStore implements CounterStore {
  private seq = 0;
  private readonly local = new MemoryStore();
  private readonly leased = new Set<string>();
  private readonly pending = new Map<
    number,
    { op: Op; resolve(v: Result): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly outbox = new Outbox<Request | Return>((batch, items) => {
    if (this.channel.connected === false) return this.failSent(items, 'no IPC channel to the master');
    this.channel.send!(batch, undefined, undefined, (err) => {
      if (err) this.failSent(items, `counter request not sent: ${err.message}`);
    });
  });
  private readonly onMessage = (m: unknown): void => {
    const items = batchItems(m);
    if (items) for (const item of items) this.receive(item);
  };

  private receive(m: unknown): void {
    if (m === null || typeof m !== 'object') return;
    const type = (m as { type?: unknown }).type;
    if (type === COUNTER_RECALL) return this.giveBack((m as Recall).id);
    if (type !== COUNTER_REPLY) return;
    const reply = m as Reply;
    const p = this.pending.get(reply.seq);
    if (!p) return;
    this.pending.delete(reply.seq);
    clearTimeout(p.timer);
    if (reply.lease) {
      this.local.importState(p.op.id, reply.lease);
      this.leased.add(p.op.id);
    }
    if (reply.local && this.leased.has(p.op.id)) return p.resolve(apply(this.local, p.op));
    if (reply.local) return p.reject(new StoreUnavailableError('lease lost'));
    p.resolve(reply.result ?? null);
  }

  constructor(
    private readonly channel: NodeJS.Process = process,
    private readonly timeoutMs = 1000,
  ) {
    if (typeof channel.send !== 'function')
      throw new Error('ClusterStore needs an IPC channel (a cluster worker)');
    channel.on('message', this.onMessage);
  }

  hitLocal(id: string, windowMs: number, weight: number): WindowCount | undefined {
    return this.leased.has(id) ? this.local.hitSync(id, windowMs, weight) : undefined;
  }

  hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    if (this.leased.has(id)) return Promise.resolve(this.local.hitSync(id, windowMs, weight));
    return this.call({ op: 'hit', id, windowMs, weight }) as Promise<WindowCount>;
  }

  reserve(id: string, intervalMs: number, maxQueued: number): Promise<SpikeSlot | null> {
    if (this.leased.has(id)) return Promise.resolve(this.local.reserveSync(id, intervalMs, maxQueued));
    return this.call({ op: 'reserve', id, intervalMs, maxQueued }) as Promise<SpikeSlot | null>;
  }

  async release(id: string, slot: number, intervalMs: number): Promise<void> {
    if (this.leased.has(id)) return this.local.releaseSync(id, slot, intervalMs);
    await this.call({ op: 'release', id, slot, intervalMs });
  }

  /** Gives every lease back to the master (a draining worker's counts stay counted). */
  close(): Promise<void> {
    for (const id of [...this.leased]) this.giveBack(id);
    this.outbox.flush();
    this.channel.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new StoreUnavailableError('counter store closed'));
    }
    this.pending.clear();
    return this.local.close();
  }

  private giveBack(id: string): void {
    const state = this.leased.delete(id) ? this.local.exportState(id) : null;
    this.outbox.push({ type: COUNTER_RETURN, id, state });
  }

  /** The requests of a batch that could not be sent fail now instead of at their timeout. */
  private failSent(items: readonly (Request | Return)[], why: string): void {
    for (const item of items) {
      if (item.type !== COUNTER_REQUEST) continue;
      const p = this.pending.get(item.seq);
      if (!p) continue;
      this.pending.delete(item.seq);
      clearTimeout(p.timer);
      p.reject(new StoreUnavailableError(why));
    }
  }

  private call(op: Op): Promise<Result> {
    return new Promise((resolve, reject) => {
      if (this.channel.connected === false)
        return reject(new StoreUnavailableError('no IPC channel to the master'));
      const seq = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new StoreUnavailableError('counter service did not answer'));
      }, this.timeoutMs);
      this.pending.set(seq, { op, resolve, reject, timer });
      this.outbox.push({ type: COUNTER_REQUEST, seq, body: op, lease: true });
    });
  }
}
