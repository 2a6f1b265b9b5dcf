/**
 * Retry policy of an HTTP gateway through the real chunk processor, transport, simulator and
 * Redis: Retry-After is honoured, permanent rejections are not retried, and a gateway that keeps
 * failing is paused (circuit breaker) instead of burning retries.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Chunk, OutboundSms } from '@smsfleet/core';
import { ChunkProgress, CircuitBreaker, createRedis, readCircuitStatus } from '@smsfleet/queue';
import { HttpTransport } from '@smsfleet/http-transport';
import { startHttpSim, type HttpSim } from '@smsfleet/smsc-sim';
import type { Logger } from '@smsfleet/runtime';
import { Semaphore } from './semaphore.js';
import { GatewayPausedError, processChunk, type SendProcessorDeps } from './send-processor.js';

const GW = 11;
const silentLog = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
let sim: HttpSim;
let transport: HttpTransport;

function msg(i: number): OutboundSms {
  return {
    smsid: randomUUID(),
    userId: 1,
    gatewayId: GW,
    from: '1000',
    to: `3650${String(i).padStart(7, '0')}`,
    text: `m ${i}`,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
}

function setup(prefix: string) {
  const retries: { chunk: Chunk; delayMs: number }[] = [];
  const published: { state: string; n: number }[] = [];
  const breaker = new CircuitBreaker(redis, prefix);
  const deps: SendProcessorDeps = {
    transportFor: () => transport,
    limiterFor: () => new Semaphore(1), // one at a time: the breaker opens at a known point
    progress: new ChunkProgress(redis, prefix),
    publish: (state, events) => {
      if (events.length) published.push({ state, n: events.length });
      return Promise.resolve();
    },
    scheduleRetry: (chunk, delayMs) => {
      retries.push({ chunk, delayMs });
      return Promise.resolve();
    },
    log: silentLog,
    maxAttempts: 5,
    retryBaseDelayMs: 10,
    breaker: {
      pausedForMs: (id) => breaker.pausedForMs(id),
      recordSuccess: (id) => breaker.recordSuccess(id),
      recordFailure: (id, reason) =>
        breaker.recordFailure(id, reason, { failureThreshold: 3, openMs: 60_000 }),
    },
  };
  return { deps, retries, published };
}

beforeAll(async () => {
  sim = await startHttpSim();
  transport = new HttpTransport({ url: `${sim.url}/send?to=[tonum]&text=[message]&id=[smsid]` });
});
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}:*`);
    if (keys.length) await redis.del(...keys);
  }
  await transport.close();
  await sim.close();
  await redis.quit();
});
beforeEach(() => {
  sim.setBehaviour({ failRate: 0, rejectRate: 0, failFirst: 0, throttleFirst: 0 });
  sim.reset();
});

const prefixes: string[] = [];
const prefix = () => {
  const p = `pol${randomBytes(6).toString('hex')}`;
  prefixes.push(p);
  return p;
};

describe('gateway retry policy', () => {
  it('429 Retry-After sets the retry delay when longer than the backoff', async () => {
    sim.setBehaviour({ throttleFirst: 2, retryAfterS: 3 });
    const { deps, retries, published } = setup(prefix());
    const chunk: Chunk = { chunkId: 'c1', gatewayId: GW, messages: [msg(1), msg(2), msg(3)] };
    const s = await processChunk(chunk, deps);
    expect(s).toMatchObject({ submitted: 1, retried: 2, failed: 0 });
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delayMs).toBe(3000);
    expect(retries[0]!.chunk).toMatchObject({ chunkId: 'c1~2', attempt: 2 });
    expect(published).toEqual([{ state: 'submitted', n: 1 }]);
  });

  it('permanent rejections fail at once: no retry, the circuit stays closed', async () => {
    sim.setBehaviour({ rejectRate: 1 });
    const p = prefix();
    const { deps, retries, published } = setup(p);
    const s = await processChunk(
      { chunkId: 'c2', gatewayId: GW, messages: [msg(1), msg(2), msg(3), msg(4)] },
      deps,
    );
    expect(s).toMatchObject({ submitted: 0, failed: 4, retried: 0 });
    expect(retries).toHaveLength(0);
    expect(published).toEqual([{ state: 'failed', n: 4 }]);
    expect((await readCircuitStatus(redis, p, GW)).state).toBe('closed');
  });

  it('a gateway that keeps failing is paused: the rest of the chunk waits, burning no attempts', async () => {
    sim.setBehaviour({ failRate: 1, failStatus: 503 });
    const p = prefix();
    const { deps, retries } = setup(p);
    const chunk: Chunk = {
      chunkId: 'c3',
      gatewayId: GW,
      messages: Array.from({ length: 10 }, (_, i) => msg(i)),
    };
    const err = await processChunk(chunk, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayPausedError);
    expect((err as GatewayPausedError).pauseMs).toBeGreaterThan(59_000);
    // Three failures opened the circuit (one more may have been in flight, parallel 1); the rest
    // were never sent.
    const sent = sim.stats().received;
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThanOrEqual(4);
    expect(retries).toHaveLength(0);
    expect(await readCircuitStatus(redis, p, GW)).toMatchObject({ state: 'open' });
    expect((await readCircuitStatus(redis, p, GW)).reason).toContain('simulated temporary failure');
    // While open, the chunk is not even tried.
    await expect(processChunk(chunk, deps)).rejects.toBeInstanceOf(GatewayPausedError);
    expect(sim.stats().received).toBe(sent);
    // Closed by hand (or after the pause): the chunk resumes, sending only the unsent ones.
    sim.setBehaviour({ failRate: 0 });
    await new CircuitBreaker(redis, p).reset(GW);
    const s = await processChunk(chunk, deps);
    expect(s).toMatchObject({ submitted: 10 - sent, retried: sent, resumed: sent });
    expect(sim.stats().received).toBe(10);
  });
});
