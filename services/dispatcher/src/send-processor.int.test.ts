import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Chunk, OutboundSms, SmsEvent, SubmitResult, Transport } from '@smsfleet/core';
import { ChunkProducer, ChunkProgress, createRedis, type Redis } from '@smsfleet/queue';
import { EventBus } from '@smsfleet/bus';
import type { Logger } from '@smsfleet/runtime';
import { Semaphore } from './semaphore.js';
import { processChunk, type SendProcessorDeps } from './send-processor.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const GW = 5;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const silentLog = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  trace() {},
  fatal() {},
} as unknown as Logger;

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

function msg(i: number, to = `3630${String(i).padStart(7, '0')}`): OutboundSms {
  return {
    smsid: `${randomUUID()}`,
    userId: 3,
    gatewayId: GW,
    from: 'smsfleet',
    to,
    text: `message ${i}`,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '10.0.0.1',
    acceptedAt: Date.now(),
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

/** A transport that answers OK (provider id `<tag>-<smsid>`) after a short pause, remembering what it sent. */
function okTransport(tag: string, sent: string[]): Transport {
  return {
    async send(m): Promise<SubmitResult> {
      sent.push(m.smsid);
      await sleep(1);
      return { ok: true, providerMessageId: `${tag}-${m.smsid}`, answer: 'OK', latencyMs: 1 };
    },
    async close() {},
  };
}

describe('processChunk with its progress in Redis', () => {
  let redis: Redis;
  let prefix: string;
  let progress: ChunkProgress;

  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'send-processor-int-test');
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `t-${randomUUID().slice(0, 8)}`;
    progress = new ChunkProgress(redis, prefix);
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });

  function deps(
    over: Partial<SendProcessorDeps> & Pick<SendProcessorDeps, 'transportFor' | 'limiterFor'>,
  ): SendProcessorDeps {
    return {
      progress,
      publish: async () => undefined,
      scheduleRetry: async () => undefined,
      log: silentLog,
      maxAttempts: 3,
      retryBaseDelayMs: 100,
      ...over,
    };
  }

  it('after a crash mid-chunk, the re-run sends only the messages without a recorded result', async () => {
    const N = 100;
    const progressEvery = 8;
    const limit = 4;
    const completeBeforeCrash = 45;
    const messages = Array.from({ length: N }, (_, i) => msg(i));
    const chunk: Chunk = { chunkId: randomUUID(), gatewayId: GW, messages, attempt: 1 };

    // Run 1: the provider answers 45 requests, then the process "dies": every later request hangs
    // forever (holding its semaphore slot), so nothing after that is answered, recorded or published.
    const sent1: string[] = [];
    const published1: SmsEvent[][] = [];
    const crashing: Transport = {
      send(m) {
        sent1.push(m.smsid);
        if (sent1.length > completeBeforeCrash) return new Promise<SubmitResult>(() => undefined);
        return sleep(1).then(() => ({
          ok: true,
          providerMessageId: `R1-${m.smsid}`,
          answer: 'OK',
          latencyMs: 1,
        }));
      },
      async close() {},
    };
    const run1 = processChunk(
      chunk,
      deps({
        transportFor: () => crashing,
        limiterFor: () => new Semaphore(limit),
        progressEvery,
        publish: async (_state, events) => void published1.push(events),
      }),
    );
    run1.catch(() => undefined);

    const recordedFloor = Math.floor(completeBeforeCrash / progressEvery) * progressEvery; // 40
    await waitFor(
      async () =>
        sent1.length === completeBeforeCrash + limit &&
        (await progress.load(chunk.chunkId)).size === recordedFloor,
    );
    await sleep(50); // nothing else moves
    expect(sent1).toHaveLength(completeBeforeCrash + limit);
    const recorded = new Set((await progress.load(chunk.chunkId)).keys());
    expect(recorded.size).toBe(recordedFloor);
    expect(published1).toEqual([]);

    // Run 2: a fresh process (new semaphore) with a healthy provider.
    const sent2: string[] = [];
    const published2: { state: string; events: SmsEvent[]; msgId: string }[] = [];
    const summary = await processChunk(
      chunk,
      deps({
        transportFor: () => okTransport('R2', sent2),
        limiterFor: () => new Semaphore(limit),
        progressEvery,
        publish: async (state, events, msgId) => void published2.push({ state, events, msgId }),
      }),
    );

    const all = messages.map((m) => m.smsid);
    // Exactly the messages without a recorded result, each once.
    expect(new Set(sent2).size).toBe(sent2.length);
    expect(new Set(sent2)).toEqual(new Set(all.filter((id) => !recorded.has(id))));
    // Together the runs cover every message; the only duplicates are answered-but-unrecorded
    // results and the requests in flight at the crash.
    const union = new Set([...sent1, ...sent2]);
    expect(union).toEqual(new Set(all));
    const duplicates = sent1.filter((id) => sent2.includes(id));
    expect(duplicates).toHaveLength(completeBeforeCrash - recordedFloor + limit);
    expect(duplicates.length).toBeLessThanOrEqual(progressEvery + limit);
    const sendCount = new Map<string, number>();
    for (const id of [...sent1, ...sent2]) sendCount.set(id, (sendCount.get(id) ?? 0) + 1);
    expect(Math.max(...sendCount.values())).toBeLessThanOrEqual(2);

    // The re-run publishes every message of the chunk once, with the result that was kept.
    expect(summary).toEqual({ submitted: N, failed: 0, retried: 0, resumed: recordedFloor });
    const submitted = published2.filter((p) => p.state === 'submitted');
    expect(submitted).toHaveLength(1);
    expect(submitted[0]!.msgId).toBe(`${chunk.chunkId}:submitted`);
    const events = submitted[0]!.events;
    expect(events.map((e) => e.smsid)).toEqual(all);
    for (const e of events) {
      expect(e.providerMessageId).toBe(recorded.has(e.smsid) ? `R1-${e.smsid}` : `R2-${e.smsid}`);
    }

    // And the progress hash is gone.
    expect((await progress.load(chunk.chunkId)).size).toBe(0);
  });

  it('progress survives in Redis across runs: re-running a finished-but-unacknowledged chunk sends nothing', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => msg(i));
    const chunk: Chunk = { chunkId: randomUUID(), gatewayId: GW, messages, attempt: 1 };
    const sent1: string[] = [];
    // Run 1 sends everything, then the crash surfaces as an exception out of publish.
    await expect(
      processChunk(
        chunk,
        deps({
          transportFor: () => okTransport('R1', sent1),
          limiterFor: () => new Semaphore(3),
          progressEvery: 4,
          publish: async () => {
            throw new Error('connection closed');
          },
        }),
      ),
    ).rejects.toThrow('connection closed');
    expect(sent1).toHaveLength(10);
    expect((await progress.load(chunk.chunkId)).size).toBe(10);

    // A fresh ChunkProgress (another dispatcher process) sees the same results.
    const sent2: string[] = [];
    const events: SmsEvent[] = [];
    const summary = await processChunk(
      chunk,
      deps({
        progress: new ChunkProgress(redis, prefix),
        transportFor: () => okTransport('R2', sent2),
        limiterFor: () => new Semaphore(3),
        publish: async (_s, ev) => void events.push(...ev),
      }),
    );
    expect(sent2).toEqual([]);
    expect(summary).toEqual({ submitted: 10, failed: 0, retried: 0, resumed: 10 });
    expect(events.map((e) => e.providerMessageId)).toEqual(messages.map((m) => `R1-${m.smsid}`));
    expect((await progress.load(chunk.chunkId)).size).toBe(0);
  });

  describe('with the real event bus and chunk queue', () => {
    let bus: EventBus;
    let producer: ChunkProducer;

    beforeEach(async () => {
      bus = await EventBus.connect({
        url: NATS_URL,
        prefix: `t${randomBytes(5).toString('hex')}`,
        name: 'send-processor-int-test',
      });
      producer = new ChunkProducer({ connection: redis, prefix });
    });
    afterEach(async () => {
      await producer.close();
      await bus.deleteStream();
      await bus.close();
    });

    /** Messages stored per subject in the bus's stream (JetStream API over core NATS). */
    async function storedPerSubject(): Promise<Record<string, number>> {
      const res = await bus.nc.request(
        `$JS.API.STREAM.INFO.${bus.streamName}`,
        JSON.stringify({ subjects_filter: '>' }),
      );
      const info = JSON.parse(new TextDecoder().decode(res.data)) as {
        state: { subjects?: Record<string, number> };
      };
      return info.state.subjects ?? {};
    }

    it('a crash after publishing and scheduling the retry, before clearing progress: the re-run duplicates nothing', async () => {
      const messages = [msg(1), msg(2, 'perm'), msg(3, 'temp'), msg(4)];
      const chunk: Chunk = { chunkId: randomUUID(), gatewayId: GW, messages, attempt: 1 };
      const sent: string[] = [];
      const transport: Transport = {
        async send(m) {
          sent.push(m.smsid);
          if (m.to === 'perm')
            return { ok: false, permanent: true, reason: 'unknown subscriber', latencyMs: 1 };
          if (m.to === 'temp') return { ok: false, permanent: false, reason: 'throttled', latencyMs: 1 };
          return { ok: true, providerMessageId: `P-${m.smsid}`, answer: 'OK', latencyMs: 1 };
        },
        async close() {},
      };
      const base = deps({
        transportFor: () => transport,
        limiterFor: () => new Semaphore(2),
        publish: (state, events, msgId) => bus.publish(state, events, msgId),
        scheduleRetry: (c, delayMs) => producer.addChunks([c], { delayMs }),
        retryBaseDelayMs: 60_000, // the retry job stays delayed during the test
      });

      // Run 1 dies just before clearing its progress.
      await expect(
        processChunk(chunk, {
          ...base,
          progress: {
            load: (id) => progress.load(id),
            record: (id, e) => progress.record(id, e),
            clear: async () => {
              throw new Error('killed');
            },
          },
        }),
      ).rejects.toThrow('killed');
      expect(sent).toHaveLength(4);

      // Run 2 (the job retried by BullMQ) resends nothing and republishes under the same msgIds.
      const summary = await processChunk(chunk, base);
      expect(sent).toHaveLength(4);
      expect(summary).toEqual({ submitted: 2, failed: 1, retried: 1, resumed: 4 });

      // JetStream dropped the duplicates: one message per state.
      expect(await storedPerSubject()).toEqual({ [bus.subject('submitted')]: 1, [bus.subject('failed')]: 1 });
      // The retry chunk exists once, with the temporary failure only.
      const q = producer.queue(GW);
      expect(await q.getJobCounts('delayed', 'wait')).toEqual({ delayed: 1, wait: 0 });
      const job = await q.getJob(`${chunk.chunkId}~2`);
      expect(job?.data.messages.map((m) => m.smsid)).toEqual([messages[2]!.smsid]);
      expect(job?.data.attempt).toBe(2);
      expect((await progress.load(chunk.chunkId)).size).toBe(0);

      // What a consumer of `submitted` / `failed` sees.
      const seen: SmsEvent[] = [];
      const c1 = await bus.consume('check-submitted', 'submitted', async (ev) => void seen.push(...ev));
      const c2 = await bus.consume('check-failed', 'failed', async (ev) => void seen.push(...ev));
      await waitFor(() => seen.length === 3);
      await sleep(50);
      await c1.stop();
      await c2.stop();
      expect(seen.map((e) => [e.smsid, e.state]).sort()).toEqual(
        [
          [messages[0]!.smsid, 'submitted'],
          [messages[1]!.smsid, 'failed'],
          [messages[3]!.smsid, 'submitted'],
        ].sort(),
      );
    });
  });
});
