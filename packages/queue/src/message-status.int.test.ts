import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundSms, SmsEvent, SmsState } from '@smsfleet/core';
import { createRedis, type Redis } from './redis.js';
import { CANCELLED_REASON, MessageStatusStore } from './message-status.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function msg(smsid: string, batchId?: string): OutboundSms {
  return {
    smsid,
    userId: 7,
    gatewayId: 1,
    from: '1000',
    to: '36201234567',
    text: 'hi',
    encoding: 'GSM7',
    segments: 1,
    clientIp: '',
    acceptedAt: 1,
    ...(batchId ? { batchId } : {}),
  };
}

const ev = (m: OutboundSms, state: SmsState, at: number, reason?: string): SmsEvent => ({
  smsid: m.smsid,
  state,
  at,
  msg: m,
  ...(reason ? { reason } : {}),
});

describe('MessageStatusStore on Redis', () => {
  let redis: Redis;
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'status-int-test');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('keeps the history of a message in order, with a TTL', async () => {
    const store = new MessageStatusStore(redis, prefix, 60);
    const m = msg(randomUUID());
    // Out of order, and the `accepted` event stamped after the submit (it is published after the
    // enqueue): the history keeps the lifecycle order and the message's own accept time.
    await store.record([
      ev(m, 'submitted', 1005),
      ev(m, 'unknown', 1005, 'no verification'),
      ev(m, 'accepted', 1009),
    ]);
    const st = await store.get(m.smsid);
    expect(st).toMatchObject({ smsid: m.smsid, userId: 7, to: '36201234567', state: 'unknown', final: true });
    expect(st!.history.map((h) => h.state)).toEqual(['accepted', 'submitted', 'unknown']);
    expect(st!.history[0]!.at).toBe(1);
    expect(st!.history[2]!.reason).toBe('no verification');
    const ttl = await redis.ttl(store.statusKey(m.smsid));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it('counts each message once per state in its batch, however often events are redelivered', async () => {
    const store = new MessageStatusStore(redis, prefix);
    const batchId = randomUUID();
    const ms = Array.from({ length: 50 }, () => msg(randomUUID(), batchId));
    const accepted = ms.map((m) => ev(m, 'accepted', 1));
    const submitted = ms.slice(0, 40).map((m) => ev(m, 'submitted', 2));
    const failed = ms.slice(40).map((m) => ev(m, 'failed', 2, CANCELLED_REASON));
    const finals = [...ms.slice(0, 40).map((m) => ev(m, 'unknown', 3)), ...failed];
    expect(await store.record([...accepted, ...submitted])).toBe(90);
    // Redelivery of everything plus the failed ones seen again on sms.final.
    await store.record([...accepted, ...submitted, ...failed, ...finals, ...finals]);
    expect(await store.batchCounters(batchId)).toEqual({
      accepted: 50,
      submitted: 40,
      delivered: 0,
      undelivered: 0,
      expired: 0,
      rejected: 0,
      failed: 10,
      unknown: 40,
      final: 50,
      left: 50,
      cancelled: 10,
    });
  });

  it('skips events that are not message transitions', async () => {
    const store = new MessageStatusStore(redis, prefix);
    const junk = [{ smsid: 'x', state: 'receipt' }, { foo: 1 }, null] as unknown as SmsEvent[];
    expect(await store.record(junk)).toBe(0);
  });
});
