import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@smsfleet/queue';
import { fingerprint, IdempotencyStore } from './idempotency.js';
import { ProblemError } from './problem.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('IdempotencyStore on Redis', () => {
  let redis: Redis;
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'idem-int-test');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const answer = (n: number) => ({
    status: 202,
    contentType: 'application/json',
    body: JSON.stringify({ n }),
  });

  it('runs once per key and user; retries get the first answer', async () => {
    const store = new IdempotencyStore(redis, prefix);
    let runs = 0;
    const fp = fingerprint('POST', '/v1/messages', '{"to":"1"}');
    const first = await store.run(1, 'k1', fp, () => Promise.resolve(answer(++runs)));
    const again = await store.run(1, 'k1', fp, () => Promise.resolve(answer(++runs)));
    expect(first).toEqual({ answer: answer(1), replayed: false });
    expect(again).toEqual({ answer: answer(1), replayed: true });
    // Another user's key of the same name is another key.
    expect((await store.run(2, 'k1', fp, () => Promise.resolve(answer(++runs)))).answer).toEqual(answer(2));
    expect(runs).toBe(2);
  });

  it('a concurrent duplicate waits for the first answer', async () => {
    const store = new IdempotencyStore(redis, prefix, { pollMs: 10 });
    let runs = 0;
    const fp = fingerprint('POST', '/v1/batches', 'x');
    const slow = () =>
      new Promise<ReturnType<typeof answer>>((r) => setTimeout(() => r(answer(++runs)), 150));
    const [a, b] = await Promise.all([store.run(1, 'k', fp, slow), store.run(1, 'k', fp, slow)]);
    expect(runs).toBe(1);
    expect(a.answer).toEqual(b.answer);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
  });

  it('the same key with another body is refused with 422', async () => {
    const store = new IdempotencyStore(redis, prefix);
    await store.run(1, 'k', fingerprint('POST', '/v1/messages', 'a'), () => Promise.resolve(answer(1)));
    const err = await store
      .run(1, 'k', fingerprint('POST', '/v1/messages', 'b'), () => Promise.resolve(answer(2)))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect((err as ProblemError).code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('a failed first attempt frees the key for a retry', async () => {
    const store = new IdempotencyStore(redis, prefix);
    const fp = fingerprint('POST', '/v1/messages', 'a');
    await expect(store.run(1, 'k', fp, () => Promise.reject(new Error('redis down')))).rejects.toThrow(
      'redis down',
    );
    expect((await store.run(1, 'k', fp, () => Promise.resolve(answer(3)))).answer).toEqual(answer(3));
  });
});
