// Counters in Redis, shared by every gateway instance: each operation is one Lua script, atomic on
// the server and timed by its key expiry (instances' clocks may differ). While Redis is unreachable
// a command waits at most commandTimeout (one retry), then rejects, so the plugins' fail-open or
// fail-closed rule applies within about a second.
import { Redis, type RedisOptions } from 'ioredis';
import type { CounterStore, WindowCount } from './counter-store.js';

// KEYS[1] counter; ARGV weight, windowMs → {count, pttl}
const HIT = `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {c, ttl}
`;

// KEYS[1] last-allowed key; ARGV intervalMs → 1 allowed, 0 refused. The key lives exactly one
// interval, so "exists" means "the last allowed request was less than an interval ago".
const ADMIT = `
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 1 end
return 0
`;

export interface RedisStoreOptions extends RedisOptions {
  /** Key prefix. Default `gatehouse:`. */
  readonly prefix?: string;
}

export class RedisStore implements CounterStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    const { prefix, ...rest } = options;
    this.prefix = prefix ?? 'gatehouse:';
    this.redis = new Redis({
      maxRetriesPerRequest: 1,
      // Queued while (re)connecting, but never longer than commandTimeout.
      enableOfflineQueue: true,
      connectTimeout: 2000,
      commandTimeout: 1000,
      ...rest,
      lazyConnect: false,
    });
    // Connection errors surface as rejected commands; the client keeps reconnecting.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('ghHit', { numberOfKeys: 1, lua: HIT });
    this.redis.defineCommand('ghAdmit', { numberOfKeys: 1, lua: ADMIT });
  }

  /** Resolves once connected (tests; the plugins do not wait). */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  async hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    const cmd = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).ghHit!;
    const [count, ttl] = await cmd.call(this.redis, `${this.prefix}q:${id}`, weight, Math.ceil(windowMs));
    return { count: Number(count), resetInMs: Number(ttl) };
  }

  async admit(id: string, intervalMs: number): Promise<boolean> {
    const cmd = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>).ghAdmit!;
    return (await cmd.call(this.redis, `${this.prefix}s:${id}`, Math.max(1, Math.floor(intervalMs)))) === 1;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
