import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSmsId, type OutboundSms, type SmsEvent } from '@smsfleet/core';
import { BatchesRepo } from '@smsfleet/db';
import { ChunkProducer, createRedis, MessageStatusStore, type Redis } from '@smsfleet/queue';
import { createLogger } from '@smsfleet/runtime';
import { createTestDb, type TestDb } from '../../../../packages/db/test/test-db.js';
import { BatchService } from './batch-service.js';
import type { V1Principal } from './api-key-auth.js';
import type { SendPort } from './send-port.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin: V1Principal = { userId: 0, name: 'apikey', admin: true, keyId: 0 };

function messages(batchId: string, n: number): OutboundSms[] {
  return Array.from({ length: n }, (_, i) => ({
    smsid: newSmsId(),
    userId: 0,
    gatewayId: 1,
    from: '1000',
    to: `3620${String(i).padStart(7, '0')}`,
    text: 'hi',
    encoding: 'GSM7',
    segments: 1,
    clientIp: '',
    acceptedAt: Date.now(),
    batchId,
  }));
}

describe('BatchService on Redis and MariaDB', () => {
  let t: TestDb;
  let redis: Redis;
  let producer: ChunkProducer;
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const published: { state: string; events: SmsEvent[] }[] = [];
  let service: BatchService;
  let pending: OutboundSms[] = [];

  beforeAll(async () => {
    t = await createTestDb();
    redis = createRedis(REDIS_URL, 'batch-int-test');
    producer = new ChunkProducer({ connection: redis, prefix });
    const send: SendPort = {
      send: () => Promise.reject(new Error('not used')),
      prepareBatch: (_p, _r, opts) =>
        Promise.resolve({
          messages: (pending = messages(opts.batchId, pending.length)),
          giveBack: () => Promise.resolve(),
        }),
      close: () => undefined,
    };
    service = new BatchService({
      redis,
      prefix,
      batches: new BatchesRepo(t.db),
      status: new MessageStatusStore(redis, prefix),
      producer,
      send,
      publish: (state, events) => {
        published.push({ state, events });
        return Promise.resolve();
      },
      log: createLogger('test', 'silent'),
      chunkSize: 10,
    });
  });
  afterAll(async () => {
    await service.close();
    await producer.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await t.close();
  });

  const cfg = {} as Parameters<BatchService['create']>[2]['cfg'];
  const recipients = (n: number) =>
    Array.from({ length: n }, () => ({ to: '36201234567', text: 'hi', from: '' }));

  it('queues a scheduled batch in chunks; cancel removes them and fails every message as cancelled', async () => {
    pending = new Array<OutboundSms>(35);
    const b = await service.create(admin, recipients(35), {
      scheduleAt: new Date(Date.now() + 3600_000),
      clientIp: '',
      cfg,
    });
    expect(b).toMatchObject({ total: 35, state: 'queuing' });
    await service.close(); // waits for the queuing to finish
    expect((await service.get(admin, b.id)).state).toBe('queued');
    const q = producer.queue(1);
    expect(await q.getJobCountByTypes('delayed')).toBe(4);
    expect(published.filter((p) => p.state === 'accepted').flatMap((p) => p.events)).toHaveLength(35);
    expect(await redis.exists(`${prefix}:batch-payload:${b.id}`)).toBe(0);

    const other: V1Principal = { userId: 9, name: 'bob', admin: false, keyId: 1 };
    await expect(service.get(other, b.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const c = await service.cancel(admin, b.id);
    expect(c.state).toBe('cancelled');
    expect(await q.getJobCountByTypes('delayed', 'waiting')).toBe(0);
    const failed = published.filter((p) => p.state === 'failed').flatMap((p) => p.events);
    expect(failed).toHaveLength(35);
    expect(new Set(failed.map((e) => e.smsid)).size).toBe(35);
    expect(failed.every((e) => e.reason === 'cancelled')).toBe(true);
    // Twice is harmless and fails nothing more.
    await service.cancel(admin, b.id);
    expect(published.filter((p) => p.state === 'failed').flatMap((p) => p.events)).toHaveLength(35);
  });

  it('resumes a batch whose replica died while queuing, without adding its queued chunks again', async () => {
    published.length = 0;
    const id = newSmsId();
    const msgs = messages(id, 30);
    const batches = new BatchesRepo(t.db);
    await batches.create({ id, userId: 0, total: 30 });
    await t
      .db('batches')
      .where({ id })
      .update({ created_at: new Date(Date.now() - 5 * 60_000) });
    // The dead replica had queued the first chunk (ids are <batchId>-<n>, 10 messages each).
    await redis.set(`${prefix}:batch-payload:${id}`, JSON.stringify(msgs));
    await producer.addChunks([{ chunkId: `${id}-0`, gatewayId: 1, messages: msgs.slice(0, 10), attempt: 1 }]);
    await redis.rpush(`${prefix}:batch-added:${id}`, `${id}-0`);
    const q = producer.queue(1);
    const before = await q.getJobCountByTypes('waiting');

    expect(await service.resumeOrphans()).toBe(1);
    await service.close();
    expect(await q.getJobCountByTypes('waiting')).toBe(before + 2);
    expect(await q.getJob(`${id}-1`)).toBeDefined();
    expect(await q.getJob(`${id}-2`)).toBeDefined();
    expect((await batches.get(id))?.state).toBe('queued');
    expect(published.filter((p) => p.state === 'accepted').flatMap((p) => p.events)).toHaveLength(20);
    // Another replica's check finds nothing left to resume.
    expect(await service.resumeOrphans()).toBe(0);
  });
});
