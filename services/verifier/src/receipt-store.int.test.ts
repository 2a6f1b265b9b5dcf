import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmsEvent } from '@smsfleet/core';
import { createRedis, type Redis } from '@smsfleet/queue';
import { ReceiptStore } from './receipt-store.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function submitted(smsid: string): SmsEvent {
  return {
    smsid,
    state: 'submitted',
    at: Date.now(),
    providerMessageId: `P-${smsid}`,
    awaitReceipt: true,
    msg: {
      smsid,
      userId: 1,
      gatewayId: 3,
      from: 'x',
      to: '3620000001',
      text: 't',
      encoding: 'GSM7',
      segments: 1,
      clientIp: '',
      acceptedAt: Date.now(),
    },
  };
}

describe('ReceiptStore: receipt timeouts are claimed with a lease', () => {
  let redis: Redis;
  const prefix = `t-rs-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'receipt-store-int-test');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('a claimed message that was never finalised comes back after the lease; forget() ends it', async () => {
    const store = new ReceiptStore({
      redis,
      prefix,
      maxWaitMs: 0,
      awaitTtlSeconds: 60,
      earlyTtlSeconds: 60,
    });
    await store.remember([submitted('a'), submitted('b')]);
    await sleep(5);
    const first = await store.claimExpired(500, 300);
    expect(first.map((e) => e.smsid).sort()).toEqual(['a', 'b']);
    // Leased: another sweeper (replica) gets nothing meanwhile.
    expect(await store.claimExpired(500, 300)).toEqual([]);
    // The sweeper died before publishing: after the lease both are due again (not lost).
    await sleep(350);
    const again = await store.claimExpired(500, 300);
    expect(again.map((e) => e.smsid).sort()).toEqual(['a', 'b']);
    await store.forget(['a', 'b']);
    await sleep(350);
    expect(await store.claimExpired(500, 300)).toEqual([]);
    expect(await redis.zcard(`${prefix}:await-deadline`)).toBe(0);
  });

  it('concurrent sweepers claim each message once', async () => {
    const store = new ReceiptStore({ redis, prefix, maxWaitMs: 0, awaitTtlSeconds: 60, earlyTtlSeconds: 60 });
    const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
    await store.remember(ids.map(submitted));
    await sleep(5);
    const got = await Promise.all([1, 2, 3, 4].map(() => store.claimExpired(20, 10_000)));
    const all = got.flat().map((e) => e.smsid);
    expect(all.sort()).toEqual([...ids].sort());
    await store.forget(ids);
  });
});
