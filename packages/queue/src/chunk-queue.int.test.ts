import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import type { Chunk, OutboundSms } from '@smsfleet/core';
import { createRedis, type Redis } from './redis.js';
import { CHUNK_JOB_NAME, ChunkProducer, DEFAULT_CHUNK_JOB_OPTIONS, gatewayQueueName } from './chunk-queue.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function sms(smsid: string, gatewayId: number): OutboundSms {
  return {
    smsid,
    userId: 1,
    gatewayId,
    from: 'smsfleet',
    to: '36201234567',
    text: `hello ${smsid}`,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '10.0.0.1',
    acceptedAt: 1_700_000_000_000,
  };
}

function chunk(chunkId: string, gatewayId: number, n = 2): Chunk {
  return {
    chunkId,
    gatewayId,
    messages: Array.from({ length: n }, (_, i) => sms(`${chunkId}-m${i}`, gatewayId)),
    attempt: 1,
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ChunkProducer on Redis', () => {
  let redis: Redis;
  let prefix: string;
  let producer: ChunkProducer;
  const workers: Worker<Chunk>[] = [];

  /** Starts a worker on a gateway's queue that records what it processes. */
  function work(gatewayId: number, seen: { chunk: Chunk; at: number; job: Job<Chunk> }[]): Worker<Chunk> {
    const w = new Worker<Chunk>(
      gatewayQueueName(gatewayId),
      async (job) => {
        seen.push({ chunk: job.data, at: Date.now(), job });
      },
      { connection: redis, prefix, concurrency: 4 },
    );
    workers.push(w);
    return w;
  }

  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'queue-int-test');
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `t-${randomUUID().slice(0, 8)}`;
    producer = new ChunkProducer({ connection: redis, prefix });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await producer.close();
    await deleteKeys(redis, prefix);
  });

  it('names one queue per gateway', () => {
    expect(gatewayQueueName(0)).toBe('gw-0');
    expect(gatewayQueueName(42)).toBe('gw-42');
    expect(producer.queue(42).name).toBe('gw-42');
    expect(producer.queue(42)).toBe(producer.queue(42));
  });

  it('puts the chunks of each gateway into that gateway’s own queue', async () => {
    const a1 = chunk(`a1-${randomUUID()}`, 1);
    const a2 = chunk(`a2-${randomUUID()}`, 1, 3);
    const b1 = chunk(`b1-${randomUUID()}`, 2);
    await producer.addChunks([a1, b1, a2]);

    // Before any worker runs, the jobs wait in the right queues.
    expect(await producer.queue(1).getJobCounts('wait', 'delayed')).toEqual({ wait: 2, delayed: 0 });
    expect(await producer.queue(2).getJobCounts('wait', 'delayed')).toEqual({ wait: 1, delayed: 0 });

    const seen1: { chunk: Chunk; at: number; job: Job<Chunk> }[] = [];
    const seen2: { chunk: Chunk; at: number; job: Job<Chunk> }[] = [];
    work(1, seen1);
    work(2, seen2);
    await waitFor(() => seen1.length === 2 && seen2.length === 1);

    // The worker gets the chunk intact, under the chunk id and the chunk job name.
    expect(seen1.map((s) => s.chunk).sort((x, y) => x.chunkId.localeCompare(y.chunkId))).toEqual([a1, a2]);
    expect(seen2.map((s) => s.chunk)).toEqual([b1]);
    for (const s of [...seen1, ...seen2]) {
      expect(s.job.id).toBe(s.chunk.chunkId);
      expect(s.job.name).toBe(CHUNK_JOB_NAME);
      expect(s.job.opts.attempts).toBe(DEFAULT_CHUNK_JOB_OPTIONS.attempts);
    }
  });

  it('adding the same chunk id twice creates one job', async () => {
    const c = chunk(`dup-${randomUUID()}`, 3);
    await producer.addChunks([c]);
    await producer.addChunks([c]);
    // A second producer (another API replica) adding it again changes nothing either.
    const other = new ChunkProducer({ connection: redis, prefix });
    try {
      await other.addChunks([c]);
    } finally {
      await other.close();
    }
    expect(await producer.queue(3).getJobCounts('wait', 'delayed', 'active')).toEqual({
      wait: 1,
      delayed: 0,
      active: 0,
    });

    const seen: { chunk: Chunk; at: number; job: Job<Chunk> }[] = [];
    work(3, seen);
    await waitFor(() => seen.length === 1);
    // Give a duplicate a chance to show up.
    await new Promise((r) => setTimeout(r, 150));
    expect(seen.map((s) => s.chunk.chunkId)).toEqual([c.chunkId]);
  });

  it('delayMs holds the job back for that long', async () => {
    const seen: { chunk: Chunk; at: number; job: Job<Chunk> }[] = [];
    work(4, seen);
    await producer.queue(4).waitUntilReady();

    const now = chunk(`now-${randomUUID()}`, 4);
    const later = chunk(`later-${randomUUID()}`, 4);
    const t0 = Date.now();
    await producer.addChunks([later], { delayMs: 400 });
    await producer.addChunks([now]);
    expect(await producer.queue(4).getJobState(later.chunkId)).toBe('delayed');

    await waitFor(() => seen.length === 2);
    const byId = new Map(seen.map((s) => [s.chunk.chunkId, s]));
    // The undelayed chunk, added after the delayed one, is processed first.
    expect(seen[0]?.chunk.chunkId).toBe(now.chunkId);
    expect(byId.get(now.chunkId)!.at - t0).toBeLessThan(400);
    expect(byId.get(later.chunkId)!.at - t0).toBeGreaterThanOrEqual(390);
    expect(byId.get(later.chunkId)!.job.opts.delay).toBe(400);
  });

  it('applies the whole-chunk attempts option and removes completed jobs', async () => {
    const p = new ChunkProducer({ connection: redis, prefix, attempts: 3 });
    try {
      const c = chunk(`att-${randomUUID()}`, 5);
      await p.addChunks([c]);
      const job = await p.queue(5).getJob(c.chunkId);
      expect(job?.opts.attempts).toBe(3);

      const seen: { chunk: Chunk; at: number; job: Job<Chunk> }[] = [];
      const w = work(5, seen);
      const completed = new Promise<void>((resolve) => w.once('completed', () => resolve()));
      await completed;
      expect(await p.queue(5).getJob(c.chunkId)).toBeUndefined();
    } finally {
      await p.close();
    }
  });
});
