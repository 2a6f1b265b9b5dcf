import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRedis } from './redis.js';
import { GatewayRateLimiter } from './rate-limiter.js';
import { CircuitBreaker, readCircuitStatus, readCircuitStatuses } from './circuit-breaker.js';

const redis = createRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const redis2 = createRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
afterAll(async () => {
  await redis.quit();
  await redis2.quit();
});

describe('GatewayRateLimiter', () => {
  it('holds the rate across two clients sharing the key', async () => {
    const prefix = `rl${randomUUID().replaceAll('-', '')}`;
    const a = new GatewayRateLimiter(redis, prefix);
    const b = new GatewayRateLimiter(redis2, prefix);
    const perSecond = 200;
    const stamps: number[] = [];
    const run = async (l: GatewayRateLimiter) => {
      for (let i = 0; i < 20; i++) {
        await l.acquire(7, 5, perSecond);
        for (let k = 0; k < 5; k++) stamps.push(performance.now());
      }
    };
    const t0 = performance.now();
    await Promise.all([run(a), run(b)]);
    const elapsed = performance.now() - t0;
    // 200 tokens at 200/s: the last batch cannot be released before (200 - 5) / 200 s.
    expect(stamps).toHaveLength(200);
    expect(elapsed).toBeGreaterThanOrEqual(((200 - 5) / perSecond) * 1000 - 20);
    await redis.del(a.key(7));
  });

  it('unlimited when perSecond is 0, and aborts a wait', async () => {
    const prefix = `rl${randomUUID().replaceAll('-', '')}`;
    const l = new GatewayRateLimiter(redis, prefix);
    const t0 = performance.now();
    await l.acquire(1, 1000, 0);
    expect(performance.now() - t0).toBeLessThan(50);
    await l.reserve(1, 10, 1); // reserves 10 s ahead, no wait
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 30);
    await expect(l.acquire(1, 1, 1, ac.signal)).rejects.toThrow('stop');
    await redis.del(l.key(1));
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, is visible to readers, half-opens and closes on success', async () => {
    const prefix = `cb${randomUUID().replaceAll('-', '')}`;
    const cb = new CircuitBreaker(redis, prefix);
    const opts = { failureThreshold: 3, openMs: 150 };
    expect(await cb.recordFailure(5, 'provider timeout', opts)).toBe(0);
    expect(await cb.recordFailure(5, 'provider timeout', opts)).toBe(0);
    expect(await cb.recordFailure(5, 'HTTP 503', opts)).toBe(150);
    const st = await readCircuitStatus(redis, prefix, 5);
    expect(st).toMatchObject({ state: 'open', reason: 'HTTP 503', failures: 3 });
    expect(await cb.pausedForMs(5)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 170));
    expect(await cb.pausedForMs(5)).toBe(0);
    expect((await readCircuitStatus(redis, prefix, 5)).state).toBe('half-open');
    // a failed probe reopens at once
    expect(await cb.recordFailure(5, 'HTTP 500', opts)).toBe(150);
    await new Promise((r) => setTimeout(r, 170));
    await cb.pausedForMs(5);
    await cb.recordSuccess(5);
    const [s5, s6] = await readCircuitStatuses(redis, prefix, [5, 6]);
    expect(s5).toMatchObject({ state: 'closed', failures: 0 });
    expect(s6).toMatchObject({ state: 'closed', failures: 0, openedAt: 0 });
    await cb.reset(5);
  });
});
