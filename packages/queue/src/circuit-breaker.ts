import type { Redis } from 'ioredis';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What the ops dashboard shows per gateway. */
export interface CircuitStatus {
  gatewayId: number;
  state: CircuitState;
  /** Epoch ms when the circuit last opened (0 = never). */
  openedAt: number;
  /** Epoch ms until which sending is paused (open state). */
  openUntil: number;
  /** Failure that opened it (no secrets: transports never put them in reasons). */
  reason: string;
  /** Consecutive temporary failures counted so far. */
  failures: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive temporary failures (across every replica) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit pauses the gateway. */
  openMs: number;
}

/**
 * KEYS[1] the gateway's hash. ARGV: now ms, threshold, openMs, reason.
 * Counts one failure; opens the circuit at the threshold, or at once when half-open (the probe
 * after a pause failed). Returns the ms the gateway stays paused (0 = still closed).
 */
const FAIL_LUA = `
local now = tonumber(ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if state == 'open' and openUntil > now then return openUntil - now end
if state == 'open' then state = 'half-open' end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if state == 'half-open' or failures >= tonumber(ARGV[2]) then
  local untilMs = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', ARGV[1], 'open_until', untilMs, 'reason', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 86400000)
  return tonumber(ARGV[3])
end
redis.call('HSET', KEYS[1], 'state', state)
redis.call('PEXPIRE', KEYS[1], 600000)
return 0
`;

type RedisWithBreaker = Redis & {
  smsfleetCircuitFail(
    key: string,
    now: number,
    threshold: number,
    openMs: number,
    reason: string,
  ): Promise<number>;
};

function toStatus(gatewayId: number, h: Record<string, string>, now: number): CircuitStatus {
  const openUntil = Number(h['open_until'] ?? 0);
  let state = (h['state'] as CircuitState | undefined) ?? 'closed';
  // An expired pause lets traffic through again: the next answer decides (half-open).
  if (state === 'open' && openUntil <= now) state = 'half-open';
  return {
    gatewayId,
    state,
    openedAt: Number(h['opened_at'] ?? 0),
    openUntil: state === 'open' ? openUntil : 0,
    reason: h['reason'] ?? '',
    failures: Number(h['failures'] ?? 0),
  };
}

/**
 * Pauses a gateway that keeps failing (timeouts, connection errors, 5xx) for a while instead of
 * burning retries. State lives in Redis so every dispatcher replica sees the same circuit and the
 * ops dashboard can read it (`readCircuitStatus`).
 */
export class CircuitBreaker {
  private readonly redis: RedisWithBreaker;
  /** Gateways with failures this process has seen since its last success report. */
  private readonly dirty = new Set<number>();

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    if (typeof (redis as unknown as Partial<RedisWithBreaker>).smsfleetCircuitFail !== 'function') {
      redis.defineCommand('smsfleetCircuitFail', { numberOfKeys: 1, lua: FAIL_LUA });
    }
    this.redis = redis as unknown as RedisWithBreaker;
  }

  /** Returns how long the gateway is paused now (ms, 0 = send). */
  async pausedForMs(gatewayId: number, now = Date.now()): Promise<number> {
    const [state, until] = await this.redis.hmget(circuitKey(this.prefix, gatewayId), 'state', 'open_until');
    if (state !== 'open') return 0;
    // Open (or half-open after the pause): the next success of this process must close it.
    this.dirty.add(gatewayId);
    return Math.max(0, Number(until ?? 0) - now);
  }

  /** Counts a temporary failure; returns the pause in ms when this (or an earlier) failure opened it. */
  async recordFailure(gatewayId: number, reason: string, opts: CircuitBreakerOptions): Promise<number> {
    this.dirty.add(gatewayId);
    return Number(
      await this.redis.smsfleetCircuitFail(
        circuitKey(this.prefix, gatewayId),
        Date.now(),
        Math.max(1, opts.failureThreshold),
        Math.max(1, opts.openMs),
        reason.slice(0, 200),
      ),
    );
  }

  /**
   * A success closes the circuit and resets the count. Only a process that saw failures (or a
   * half-open circuit) writes, so the hot path pays nothing while the gateway is healthy.
   */
  async recordSuccess(gatewayId: number, force = false): Promise<void> {
    if (!force && !this.dirty.has(gatewayId)) return;
    this.dirty.delete(gatewayId);
    await this.redis.hset(circuitKey(this.prefix, gatewayId), 'state', 'closed', 'failures', 0);
  }

  /** Closes the circuit by hand (operator). */
  async reset(gatewayId: number): Promise<void> {
    this.dirty.delete(gatewayId);
    await this.redis.del(circuitKey(this.prefix, gatewayId));
  }
}

export function circuitKey(prefix: string, gatewayId: number): string {
  return `${prefix}:circuit:gw:${gatewayId}`;
}

/** The circuit of one gateway, for dashboards and the CLI. */
export async function readCircuitStatus(
  redis: Redis,
  prefix: string,
  gatewayId: number,
): Promise<CircuitStatus> {
  return toStatus(gatewayId, await redis.hgetall(circuitKey(prefix, gatewayId)), Date.now());
}

/** The circuits of several gateways in one round trip. */
export async function readCircuitStatuses(
  redis: Redis,
  prefix: string,
  gatewayIds: readonly number[],
): Promise<CircuitStatus[]> {
  if (gatewayIds.length === 0) return [];
  const p = redis.pipeline();
  for (const id of gatewayIds) p.hgetall(circuitKey(prefix, id));
  const res = (await p.exec()) ?? [];
  const now = Date.now();
  return gatewayIds.map((id, i) =>
    toStatus(id, (res[i]?.[1] as Record<string, string> | undefined) ?? {}, now),
  );
}
