import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Bind slots held across every dispatcher replica: slot i of a gateway is a Redis key taken with
 * `SET NX PX` and renewed while the bind lives, so N processes never hold more binds than the
 * gateway allows. A process that stalls past the TTL loses its slot and must drop that bind.
 */
export interface BindLeaser {
  /** Takes the slot if free (or already ours); true when held. */
  acquire(slot: number): Promise<boolean>;
  /** Extends our hold; false when the slot is no longer ours (drop the bind). */
  renew(slot: number): Promise<boolean>;
  release(slot: number): Promise<void>;
  readonly ttlMs: number;
}

/** One process alone (CLI gateway test, single dispatcher without Redis): every slot is free. */
export class LocalBindLeaser implements BindLeaser {
  readonly ttlMs = 60_000;
  acquire(): Promise<boolean> {
    return Promise.resolve(true);
  }
  renew(): Promise<boolean> {
    return Promise.resolve(true);
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}

// Renew / release only our own hold (compare-and-set on the owner token).
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class RedisBindLeaser implements BindLeaser {
  readonly owner = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly gatewayId: number,
    readonly ttlMs = 15_000,
  ) {}

  key(slot: number): string {
    return `${this.prefix}:smpp:bind:${this.gatewayId}:${slot}`;
  }

  async acquire(slot: number): Promise<boolean> {
    const ok = await this.redis.set(this.key(slot), this.owner, 'PX', this.ttlMs, 'NX');
    if (ok === 'OK') return true;
    return this.renew(slot);
  }

  async renew(slot: number): Promise<boolean> {
    const r = await this.redis.eval(RENEW_LUA, 1, this.key(slot), this.owner, String(this.ttlMs));
    return Number(r) === 1;
  }

  async release(slot: number): Promise<void> {
    await this.redis.eval(RELEASE_LUA, 1, this.key(slot), this.owner);
  }
}
