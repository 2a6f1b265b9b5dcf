import type { Redis } from 'ioredis';

/**
 * GCRA reservation in one round trip. KEYS[1] holds the theoretical arrival time (TAT, µs on the
 * Redis clock, so every process shares one clock). ARGV: tokens, interval µs per token, burst µs.
 * Returns the wait in µs before the first reserved token may be used; the caller spaces the rest
 * `interval` apart. Tokens are reserved even when the caller must wait, so callers queue up fairly
 * instead of polling, and the limit holds across every process sharing the key.
 */
const RESERVE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now - burst then tat = now - burst end
local first = tat
local newTat = tat + n * interval
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000) + 1000)
local wait = first - now
if wait < 0 then wait = 0 end
return string.format('%.0f', wait)
`;

export interface RateReservation {
  /** Milliseconds until the first reserved token may be used. */
  waitMs: number;
  /** Milliseconds between consecutive tokens of the reservation (1000 / perSecond). */
  intervalMs: number;
}

type RedisWithReserve = Redis & {
  smsfleetRateReserve(key: string, n: number, intervalUs: number, burstUs: number): Promise<string>;
};

/**
 * A messages-per-second limit per gateway that holds across every dispatcher replica (and the SMPP
 * transport's segments): state lives in Redis. Limit messages, not jobs: a chunk carries many.
 * `burstSeconds` (default 0) lets an idle gateway send that much ahead of the steady rate.
 */
export class GatewayRateLimiter {
  private readonly redis: RedisWithReserve;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly burstSeconds = 0,
  ) {
    if (typeof (redis as unknown as Partial<RedisWithReserve>).smsfleetRateReserve !== 'function') {
      redis.defineCommand('smsfleetRateReserve', { numberOfKeys: 1, lua: RESERVE_LUA });
    }
    this.redis = redis as unknown as RedisWithReserve;
  }

  key(gatewayId: number | string): string {
    return `${this.prefix}:rate:gw:${gatewayId}`;
  }

  /** Reserves `tokens` and says when they may be used; no waiting. perSecond <= 0: unlimited. */
  async reserve(gatewayId: number | string, tokens: number, perSecond: number): Promise<RateReservation> {
    if (!(perSecond > 0) || tokens <= 0) return { waitMs: 0, intervalMs: 0 };
    const intervalUs = 1_000_000 / perSecond;
    const burstUs = Math.max(0, this.burstSeconds) * 1_000_000;
    const wait = await this.redis.smsfleetRateReserve(
      this.key(gatewayId),
      Math.ceil(tokens),
      Math.round(intervalUs),
      Math.round(burstUs),
    );
    return { waitMs: Number(wait) / 1000, intervalMs: intervalUs / 1000 };
  }

  /**
   * Resolves when `tokens` messages may go out: after the wait for the first one and the spacing of
   * the others (so a caller that sends them all at once stays within the rate). Rejects with the
   * signal's reason when aborted; reserved tokens are then lost, which errs on the safe side.
   */
  async acquire(
    gatewayId: number | string,
    tokens: number,
    perSecond: number,
    signal?: AbortSignal,
  ): Promise<void> {
    signal?.throwIfAborted();
    const r = await this.reserve(gatewayId, tokens, perSecond);
    const ms = r.waitMs + Math.max(0, Math.ceil(tokens) - 1) * r.intervalMs;
    if (ms >= 1) await sleep(ms, signal);
  }
}

/** setTimeout as a promise that an AbortSignal cancels. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
