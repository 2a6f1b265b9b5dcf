import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from './redis.js';
import {
  OPS_BUCKET_MS,
  OPS_MAX_FAILURES,
  OpsStatsReader,
  OpsStatsWriter,
  latencyBucketIndex,
  latencyQuantileMs,
} from './ops-stats.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('latency histogram helpers', () => {
  it('finds the bucket and the quantile as an upper bound', () => {
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(5)).toBe(0);
    expect(latencyBucketIndex(6)).toBe(1);
    expect(latencyBucketIndex(1e9)).toBeGreaterThan(latencyBucketIndex(300_000) - 1);
    const counts = new Array<number>(15).fill(0);
    expect(latencyQuantileMs(counts, 0.5)).toBeUndefined();
    counts[latencyBucketIndex(40)] = 90; // 90 messages in (25, 50] ms
    counts[latencyBucketIndex(900)] = 10; // 10 in (500, 1000] ms
    expect(latencyQuantileMs(counts, 0.5)).toBe(50);
    expect(latencyQuantileMs(counts, 0.9)).toBe(50);
    expect(latencyQuantileMs(counts, 0.95)).toBe(1000);
  });
});

describe('OpsStats on Redis: writers in several processes, one reader', () => {
  let redis: Redis;
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'ops-stats-int-test');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('sums what every writer saw per gateway and bucket, keeps totals and the latest failures', async () => {
    const a = new OpsStatsWriter(redis, prefix, { flushMs: 60_000 });
    const b = new OpsStatsWriter(redis, prefix, { flushMs: 60_000 });
    const now = Date.now();
    const prev = now - OPS_BUCKET_MS;
    for (let i = 0; i < 30; i++) a.count(7, 'submitted', 1, prev);
    for (let i = 0; i < 20; i++) b.count(7, 'submitted', 1, prev);
    b.count(7, 'final:delivered', 40, now);
    b.count(7, 'final:failed', 10, now);
    b.count(8, 'submitted', 5, now);
    for (let i = 0; i < 10; i++) a.latency(7, 'e2e', 40, now);
    a.total(7, 'accepted', 100);
    b.total(7, 'dispatched', 60);
    for (let i = 0; i < OPS_MAX_FAILURES + 5; i++)
      b.failure({ at: now + i, gatewayId: 7, smsid: `s${i}`, state: 'failed', reason: 'x'.repeat(400) });
    await Promise.all([a.close(), b.close()]);

    const r = new OpsStatsReader(redis, prefix);
    const w = await r.window([7, 8, 9], 2, now);
    const seven = w.get(7)!;
    expect(seven).toHaveLength(2);
    expect(seven[0]!.counts.submitted).toBe(50);
    expect(seven[1]!.counts['final:delivered']).toBe(40);
    expect(seven[1]!.counts['final:failed']).toBe(10);
    expect(seven[1]!.counts[`e2e:${latencyBucketIndex(40)}`]).toBe(10);
    expect(w.get(8)![1]!.counts.submitted).toBe(5);
    expect(w.get(9)!.every((x) => Object.keys(x.counts).length === 0)).toBe(true);
    expect((await r.totals([7, 8])).get(7)).toEqual({ accepted: 100, dispatched: 60 });
    expect((await r.totals([7, 8])).get(8)).toEqual({ accepted: 0, dispatched: 0 });
    const failures = await r.recentFailures(100);
    expect(failures).toHaveLength(OPS_MAX_FAILURES);
    expect(failures[0]!.smsid).toBe(`s${OPS_MAX_FAILURES + 4}`);
    expect(failures[0]!.reason.length).toBe(300);
    // Buckets expire on their own.
    const ttl = await redis.ttl(`${prefix}:ops:b:7:${Math.floor(now / OPS_BUCKET_MS)}`);
    expect(ttl).toBeGreaterThan(0);
  });

  it('sums SMPP binds of fresh reports only', async () => {
    const w = new OpsStatsWriter(redis, prefix, { flushMs: 60_000 });
    await w.smpp(3, 'p1', { bindsUp: 2, windowInUse: 10 });
    await w.smpp(3, 'p2', { bindsUp: 1, windowInUse: 5 });
    await w.close();
    const r = new OpsStatsReader(redis, prefix);
    expect((await r.smppStatus([3, 4])).get(3)).toEqual({ bindsUp: 3, windowInUse: 15 });
    expect((await r.smppStatus([3], Date.now() + 60_000)).get(3)).toBeUndefined();
  });
});
