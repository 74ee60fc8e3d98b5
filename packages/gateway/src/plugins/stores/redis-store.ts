// Counters in Redis, shared by every gateway instance: each operation is one Lua script, atomic on
// the server and timed by its key expiry (instances' clocks may differ). While Redis is unreachable
// a command waits at most commandTimeout (one retry), then rejects, so the plugins' fail-open or
// fail-closed rule applies within about a second.
import { Redis, type RedisOptions } from 'ioredis';
import type { CounterStore, SpikeSlot, WindowCount } from './counter-store.js';

const usOf = (ms: number): number => Math.max(1, Math.round(ms * 1000));

// KEYS[1] counter; ARGV weight, windowMs → {count, pttl}
const HIT = `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {c, ttl}
`;

// Spike-arrest slots, in microseconds of the server's clock (one clock for every instance).
// KEYS[1] next free slot at the tail, KEYS[2] freed slots (sorted set); ARGV intervalUs, maxQueued
// → {waitUs, slotUs}, or {-1, 0} when refused.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local iv = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
local f = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if f[1] then
  redis.call('ZREM', KEYS[2], f[1])
  return {tonumber(f[2]) - now, tonumber(f[2])}
end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = now
if nxt > now then
  if math.ceil((nxt - now) / iv) - 1 >= tonumber(ARGV[2]) then return {-1, 0} end
  slot = nxt
end
local ttl = math.ceil((slot + iv - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%d', slot + iv), 'PX', ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {slot - now, slot}
`;

// A waiting request left: its slot is freed (or, at the tail, the queue shortens). ARGV slotUs, intervalUs.
const RELEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = tonumber(ARGV[1])
local iv = tonumber(ARGV[2])
if slot <= now then return 0 end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt ~= slot + iv then
  redis.call('ZADD', KEYS[2], slot, string.format('%d', slot))
  return 1
end
nxt = slot
while true do
  local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if last[1] and tonumber(last[2]) == nxt - iv then
    redis.call('ZREM', KEYS[2], last[1])
    nxt = nxt - iv
  else
    break
  end
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'KEEPTTL')
return 1
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
    this.redis.defineCommand('ghReserve', { numberOfKeys: 2, lua: RESERVE });
    this.redis.defineCommand('ghRelease', { numberOfKeys: 2, lua: RELEASE });
  }

  /** Resolves once connected (tests; the plugins do not wait). */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  hitLocal(): undefined {
    return undefined;
  }

  async hit(id: string, windowMs: number, weight: number): Promise<WindowCount> {
    const cmd = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).ghHit!;
    const [count, ttl] = await cmd.call(this.redis, `${this.prefix}q:${id}`, weight, Math.ceil(windowMs));
    return { count: Number(count), resetInMs: Number(ttl) };
  }

  async reserve(id: string, intervalMs: number, maxQueued: number): Promise<SpikeSlot | null> {
    const cmd = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).ghReserve!;
    const key = `${this.prefix}s:${id}`;
    const [waitUs, slotUs] = await cmd.call(this.redis, key, `${key}:freed`, usOf(intervalMs), maxQueued);
    if (Number(waitUs) < 0) return null;
    return { waitMs: Number(waitUs) / 1000, slot: Number(slotUs) };
  }

  async release(id: string, slot: number, intervalMs: number): Promise<void> {
    const cmd = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>).ghRelease!;
    const key = `${this.prefix}s:${id}`;
    await cmd.call(this.redis, key, `${key}:freed`, slot, usOf(intervalMs));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
