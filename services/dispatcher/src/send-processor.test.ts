import { describe, expect, it } from 'vitest';
import type { Chunk, OutboundSms, SmsEvent, SubmitResult, Transport } from '@smsfleet/core';
import type { Logger } from '@smsfleet/runtime';
import { Semaphore } from './semaphore.js';
import {
  GatewayThrottledError,
  processChunk,
  retryDelayMs,
  type SendOutcome,
  type SendProcessorDeps,
} from './send-processor.js';

const GW = 7;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function msg(i: number, to = `3620000${String(i).padStart(4, '0')}`): OutboundSms {
  return {
    smsid: `sms-${i}`,
    userId: 11,
    gatewayId: GW,
    from: 'smsfleet',
    to,
    text: `text ${i}`,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '10.0.0.1',
    acceptedAt: 1_700_000_000_000 + i,
  };
}

function chunkOf(messages: OutboundSms[], over: Partial<Chunk> = {}): Chunk {
  return { chunkId: 'abc', gatewayId: GW, messages, attempt: 1, ...over };
}

const OK = (id: string): SubmitResult => ({
  ok: true,
  providerMessageId: id,
  answer: `OK ${id}`,
  latencyMs: 3,
});
const PERM = (reason: string, answer?: string): SubmitResult => ({
  ok: false,
  permanent: true,
  reason,
  answer,
  latencyMs: 3,
});
const TEMP = (reason: string): SubmitResult => ({ ok: false, permanent: false, reason, latencyMs: 3 });

/** How the fake provider answers a destination number. Unlisted numbers get OK with id `P-<smsid>`. */
type Answer = SubmitResult | 'throw' | ((m: OutboundSms) => Promise<SubmitResult>);

interface Published {
  state: 'submitted' | 'failed';
  events: SmsEvent[];
  msgId: string;
}

const silentLog = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  trace() {},
  fatal() {},
} as unknown as Logger;

function harness(
  opts: {
    answers?: Record<string, Answer>;
    noTransport?: boolean;
    limit?: number;
    maxAttempts?: number;
    progressEvery?: number;
    retryBaseDelayMs?: number;
    progress?: Map<string, Map<string, string>>;
  } = {},
) {
  const progress = opts.progress ?? new Map<string, Map<string, string>>();
  const sends: string[] = [];
  const publishes: Published[] = [];
  const retries: { chunk: Chunk; delayMs: number }[] = [];
  const records: { chunkId: string; entries: [string, string][] }[] = [];
  const results: SubmitResult[] = [];
  /** Interleaving of the side effects, to check their order. */
  const order: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const limiter = new Semaphore(opts.limit ?? 4);

  const transport: Transport = {
    async send(m) {
      sends.push(m.smsid);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const a = opts.answers?.[m.to];
        await Promise.resolve();
        if (a === undefined) return OK(`P-${m.smsid}`);
        if (a === 'throw') throw new Error(`socket hang up (${m.to})`);
        if (typeof a === 'function') return await a(m);
        return a;
      } finally {
        inFlight--;
      }
    },
    async close() {},
  };

  const deps: SendProcessorDeps = {
    transportFor: (id) => (opts.noTransport || id !== GW ? undefined : transport),
    limiterFor: () => limiter,
    progress: {
      async load(chunkId) {
        return new Map(progress.get(chunkId) ?? []);
      },
      async record(chunkId, entries) {
        records.push({ chunkId, entries });
        order.push('record');
        const m = progress.get(chunkId) ?? new Map<string, string>();
        for (const [k, v] of entries) m.set(k, v);
        progress.set(chunkId, m);
      },
      async clear(chunkId) {
        order.push('clear');
        progress.delete(chunkId);
      },
    },
    async publish(state, events, msgId) {
      order.push(`publish:${state}`);
      publishes.push({ state, events, msgId });
    },
    async scheduleRetry(chunk, delayMs) {
      order.push('retry');
      retries.push({ chunk, delayMs });
    },
    log: silentLog,
    maxAttempts: opts.maxAttempts ?? 3,
    retryBaseDelayMs: opts.retryBaseDelayMs ?? 1000,
    progressEvery: opts.progressEvery,
    onResult: (gatewayId, r) => {
      expect(gatewayId).toBe(GW);
      results.push(r);
    },
  };
  return {
    deps,
    progress,
    sends,
    publishes,
    retries,
    records,
    results,
    order,
    limiter,
    get maxInFlight() {
      return maxInFlight;
    },
    /** Publishes that carried events (the processor also hands over empty lists). */
    nonEmpty: () => publishes.filter((p) => p.events.length > 0),
    events: (state: 'submitted' | 'failed') =>
      publishes.filter((p) => p.state === state).flatMap((p) => p.events),
  };
}

describe('processChunk', () => {
  it('all ok: sends each message once, one `submitted` publish with every message, progress cleared', async () => {
    const messages = [msg(1), msg(2), msg(3), msg(4), msg(5)];
    const h = harness();
    const summary = await processChunk(chunkOf(messages), h.deps);

    expect(summary).toEqual({ submitted: 5, failed: 0, retried: 0, resumed: 0 });
    expect([...h.sends].sort()).toEqual(messages.map((m) => m.smsid));
    expect(h.nonEmpty()).toHaveLength(1);
    const [pub] = h.nonEmpty();
    expect(pub!.state).toBe('submitted');
    expect(pub!.msgId).toBe('abc:submitted');
    expect(pub!.events.map((e) => e.smsid)).toEqual(messages.map((m) => m.smsid));
    for (const [i, e] of pub!.events.entries()) {
      expect(e).toMatchObject({
        state: 'submitted',
        msg: messages[i],
        providerMessageId: `P-${messages[i]!.smsid}`,
        answer: `OK P-${messages[i]!.smsid}`,
      });
      expect(e.submittedAt).toBe(e.at);
      expect(e.at).toBeGreaterThan(0);
    }
    expect(h.events('failed')).toEqual([]);
    expect(h.retries).toEqual([]);
    expect(h.progress.has('abc')).toBe(false);
    expect(h.results).toHaveLength(5);
    expect(h.limiter.inUse).toBe(0);
  });

  it('records progress before publishing, publishes before scheduling the retry, clears last', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => msg(i));
    const h = harness({ answers: { [messages[3]!.to]: TEMP('busy') }, progressEvery: 4 });
    await processChunk(chunkOf(messages), h.deps);

    // Written every `progressEvery` results, the rest at the end.
    expect(h.records.map((r) => r.entries.length)).toEqual([4, 4, 2]);
    expect(new Set(h.records.flatMap((r) => r.entries.map(([k]) => k)))).toEqual(
      new Set(messages.map((m) => m.smsid)),
    );
    const recorded = new Map(h.records.flatMap((r) => r.entries));
    expect(JSON.parse(recorded.get('sms-3')!)).toMatchObject({
      r: 'temp',
      reason: 'busy',
    } satisfies Partial<SendOutcome>);
    expect(JSON.parse(recorded.get('sms-0')!)).toMatchObject({
      r: 'ok',
      id: 'P-sms-0',
    } satisfies Partial<SendOutcome>);

    const lastRecord = h.order.lastIndexOf('record');
    const firstPublish = h.order.findIndex((o) => o.startsWith('publish:'));
    expect(lastRecord).toBeLessThan(firstPublish);
    expect(h.order.indexOf('retry')).toBeGreaterThan(h.order.lastIndexOf('publish:submitted'));
    expect(h.order.indexOf('retry')).toBeGreaterThan(h.order.lastIndexOf('publish:failed'));
    expect(h.order.at(-1)).toBe('clear');
  });

  it('permanent failure: a `failed` event with the reason and the provider answer, no retry', async () => {
    const messages = [msg(1), msg(2, '000'), msg(3)];
    const h = harness({ answers: { '000': PERM('invalid destination', 'ERR 21') } });
    const summary = await processChunk(chunkOf(messages), h.deps);

    expect(summary).toEqual({ submitted: 2, failed: 1, retried: 0, resumed: 0 });
    expect(h.events('submitted').map((e) => e.smsid)).toEqual(['sms-1', 'sms-3']);
    const failed = h.publishes.filter((p) => p.state === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.msgId).toBe('abc:failed');
    expect(failed[0]!.events).toEqual([
      expect.objectContaining({
        smsid: 'sms-2',
        state: 'failed',
        msg: messages[1],
        reason: 'invalid destination',
        answer: 'ERR 21',
      }),
    ]);
    expect(h.retries).toEqual([]);
    expect(h.progress.has('abc')).toBe(false);
  });

  it('temporary failure below maxAttempts: a retry chunk with only those messages, attempt+1, id <root>~<attempt+1>', async () => {
    const messages = [msg(1), msg(2, 't1'), msg(3), msg(4, 't2')];
    const h = harness({
      answers: { t1: TEMP('throttled'), t2: TEMP('timeout') },
      maxAttempts: 3,
      retryBaseDelayMs: 1000,
    });
    const summary = await processChunk(chunkOf(messages, { chunkId: 'abc', attempt: 1 }), h.deps);

    expect(summary).toEqual({ submitted: 2, failed: 0, retried: 2, resumed: 0 });
    expect(h.events('submitted').map((e) => e.smsid)).toEqual(['sms-1', 'sms-3']);
    expect(h.events('failed')).toEqual([]);
    expect(h.retries).toHaveLength(1);
    const { chunk, delayMs } = h.retries[0]!;
    expect(chunk).toEqual({
      chunkId: 'abc~2',
      gatewayId: GW,
      messages: [messages[1], messages[3]],
      attempt: 2,
    });
    // Base delay with ±25 % jitter.
    expect(delayMs).toBeGreaterThanOrEqual(750);
    expect(delayMs).toBeLessThanOrEqual(1250);
    expect(h.progress.has('abc')).toBe(false);
  });

  it('a chunk without an attempt counts as attempt 1', async () => {
    const h = harness({ answers: { t: TEMP('busy') } });
    const c: Chunk = { chunkId: 'plain', gatewayId: GW, messages: [msg(1, 't')] };
    await processChunk(c, h.deps);
    expect(h.retries.map((r) => [r.chunk.chunkId, r.chunk.attempt])).toEqual([['plain~2', 2]]);
  });

  it('a retry of a retry keeps the root id: abc~2 -> abc~3', async () => {
    const messages = [msg(1, 't')];
    const h = harness({ answers: { t: TEMP('throttled') }, maxAttempts: 5, retryBaseDelayMs: 1000 });
    await processChunk(chunkOf(messages, { chunkId: 'abc~2', attempt: 2 }), h.deps);

    expect(h.retries.map((r) => r.chunk)).toEqual([
      { chunkId: 'abc~3', gatewayId: GW, messages, attempt: 3 },
    ]);
    // Exponential: twice the base at attempt 2, with jitter.
    expect(h.retries[0]!.delayMs).toBeGreaterThanOrEqual(1500);
    expect(h.retries[0]!.delayMs).toBeLessThanOrEqual(2500);
    expect(h.publishes.every((p) => p.msgId.startsWith('abc~2:'))).toBe(true);
  });

  it('temporary failure at maxAttempts: failed, with "gave up" in the reason, no retry', async () => {
    const messages = [msg(1, 't'), msg(2)];
    const h = harness({ answers: { t: TEMP('throttled') }, maxAttempts: 3 });
    const summary = await processChunk(chunkOf(messages, { chunkId: 'abc~3', attempt: 3 }), h.deps);

    expect(summary).toEqual({ submitted: 1, failed: 1, retried: 0, resumed: 0 });
    expect(h.retries).toEqual([]);
    const [failed] = h.events('failed');
    expect(failed).toMatchObject({ smsid: 'sms-1', state: 'failed' });
    expect(failed!.reason).toContain('throttled');
    expect(failed!.reason).toContain('gave up');
    expect(failed!.reason).toBe('throttled (gave up after 3 attempts)');
  });

  it('a transport that throws counts as a temporary failure (retried, then failed with the error text)', async () => {
    const first = harness({ answers: { x: 'throw' }, maxAttempts: 2 });
    const s1 = await processChunk(chunkOf([msg(1, 'x'), msg(2)]), first.deps);
    expect(s1).toEqual({ submitted: 1, failed: 0, retried: 1, resumed: 0 });
    expect(first.retries[0]!.chunk.messages.map((m) => m.smsid)).toEqual(['sms-1']);
    expect(first.results.filter((r) => !r.ok)).toEqual([
      expect.objectContaining({ ok: false, permanent: false, reason: 'socket hang up (x)' }),
    ]);
    expect(first.limiter.inUse).toBe(0);

    const last = harness({ answers: { x: 'throw' }, maxAttempts: 2 });
    await processChunk(first.retries[0]!.chunk, last.deps);
    expect(last.events('failed')).toEqual([
      expect.objectContaining({ smsid: 'sms-1', reason: 'socket hang up (x) (gave up after 2 attempts)' }),
    ]);
    expect(last.retries).toEqual([]);
  });

  it('missing transport: every message fails permanently, nothing is sent or retried', async () => {
    const messages = [msg(1), msg(2)];
    const h = harness({ noTransport: true, maxAttempts: 3 });
    const summary = await processChunk(chunkOf(messages, { attempt: 1 }), h.deps);

    expect(summary).toEqual({ submitted: 0, failed: 2, retried: 0, resumed: 0 });
    expect(h.sends).toEqual([]);
    expect(h.retries).toEqual([]);
    expect(h.events('failed').map((e) => [e.smsid, e.state, e.reason])).toEqual(
      messages.map((m) => [m.smsid, 'failed', `gateway ${GW} is not configured`]),
    );
    expect(h.events('submitted')).toEqual([]);
    expect(h.progress.has('abc')).toBe(false);
  });

  it('resume: messages with a recorded result are not sent again but still appear in the published events', async () => {
    const messages = Array.from({ length: 6 }, (_, i) => msg(i));
    const before: [string, SendOutcome][] = [
      ['sms-0', { r: 'ok', at: 111, id: 'EARLIER-0', answer: 'OK EARLIER-0' }],
      ['sms-2', { r: 'perm', at: 222, reason: 'blacklisted', answer: 'ERR 9' }],
      ['sms-4', { r: 'temp', at: 333, reason: 'busy' }],
      ['not-in-chunk', { r: 'ok', at: 444, id: 'X' }],
    ];
    const progress = new Map([
      ['abc', new Map(before.map(([k, v]) => [k, JSON.stringify(v)] as [string, string]))],
    ]);
    const h = harness({ progress, maxAttempts: 3 });
    const summary = await processChunk(chunkOf(messages), h.deps);

    expect([...h.sends].sort()).toEqual(['sms-1', 'sms-3', 'sms-5']);
    expect(summary).toEqual({ submitted: 4, failed: 1, retried: 1, resumed: 4 });
    const submitted = h.events('submitted');
    expect(submitted.map((e) => e.smsid)).toEqual(['sms-0', 'sms-1', 'sms-3', 'sms-5']);
    // The earlier result is published as it was recorded.
    expect(submitted[0]).toMatchObject({
      providerMessageId: 'EARLIER-0',
      answer: 'OK EARLIER-0',
      at: 111,
      submittedAt: 111,
      msg: messages[0],
    });
    expect(h.events('failed')).toEqual([
      expect.objectContaining({ smsid: 'sms-2', reason: 'blacklisted', answer: 'ERR 9', at: 222 }),
    ]);
    expect(h.retries.map((r) => r.chunk.messages.map((m) => m.smsid))).toEqual([['sms-4']]);
    expect(h.progress.has('abc')).toBe(false);
  });

  it('resume of a fully recorded chunk sends nothing and republishes under the same msgIds', async () => {
    const messages = [msg(1), msg(2, 'bad')];
    const first = harness({ answers: { bad: PERM('nope') } });
    // The first run dies right after sending (publish fails): its results stay in the progress hash.
    first.deps.publish = async () => {
      throw new Error('nats down');
    };
    await expect(processChunk(chunkOf(messages), first.deps)).rejects.toThrow('nats down');
    expect(first.progress.get('abc')?.size).toBe(2);
    expect(first.order).not.toContain('clear');

    const second = harness({ progress: first.progress });
    const summary = await processChunk(chunkOf(messages), second.deps);
    expect(second.sends).toEqual([]);
    expect(summary).toEqual({ submitted: 1, failed: 1, retried: 0, resumed: 2 });
    expect(
      second
        .nonEmpty()
        .map((p) => p.msgId)
        .sort(),
    ).toEqual(['abc:failed', 'abc:submitted']);
    expect(second.progress.has('abc')).toBe(false);
  });

  it('a failing scheduleRetry fails the chunk and keeps its progress', async () => {
    const h = harness({ answers: { t: TEMP('busy') } });
    h.deps.scheduleRetry = async () => {
      throw new Error('redis down');
    };
    await expect(processChunk(chunkOf([msg(1, 't'), msg(2)]), h.deps)).rejects.toThrow('redis down');
    expect(h.progress.get('abc')?.size).toBe(2);
    expect(h.order).not.toContain('clear');
  });

  it('a failing progress write fails the chunk before anything is published', async () => {
    const h = harness();
    h.deps.progress.record = async () => {
      throw new Error('OOM command not allowed');
    };
    await expect(processChunk(chunkOf([msg(1), msg(2)]), h.deps)).rejects.toThrow('OOM');
    expect(h.publishes).toEqual([]);
    expect(h.retries).toEqual([]);
  });

  // A rejected progress write must be handled even while other sends are still in flight.
  it('a progress write failing while sends are in flight is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const saved = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const spy = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', spy);
    try {
      const messages = Array.from({ length: 8 }, (_, i) => msg(i));
      const answers = Object.fromEntries(
        messages.map((m, i) => [m.to, async () => (await sleep(5 * i), OK(m.smsid))] as [string, Answer]),
      );
      const h = harness({ answers, limit: 2, progressEvery: 2 });
      h.deps.progress.record = async () => {
        throw new Error('redis down');
      };
      await expect(processChunk(chunkOf(messages), h.deps)).rejects.toThrow('redis down');
      await sleep(20);
    } finally {
      process.off('unhandledRejection', spy);
      for (const l of saved) process.on('unhandledRejection', l);
    }
    expect(unhandled).toEqual([]);
  });

  it('never exceeds the gateway semaphore (limit 3, 50 messages), and does use it fully', async () => {
    const messages = Array.from({ length: 50 }, (_, i) => msg(i));
    const answers = Object.fromEntries(
      messages.map((m, i) => [m.to, async () => (await sleep(i % 4), OK(m.smsid))] as [string, Answer]),
    );
    const h = harness({ answers, limit: 3 });
    const summary = await processChunk(chunkOf(messages), h.deps);
    expect(summary.submitted).toBe(50);
    expect(h.sends).toHaveLength(50);
    expect(h.maxInFlight).toBe(3);
    expect(h.limiter.inUse).toBe(0);
  });

  it('two chunks of one gateway share its semaphore', async () => {
    const a = Array.from({ length: 20 }, (_, i) => msg(i));
    const b = Array.from({ length: 20 }, (_, i) => msg(100 + i));
    const answers = Object.fromEntries(
      [...a, ...b].map((m, i) => [m.to, async () => (await sleep(i % 3), OK(m.smsid))] as [string, Answer]),
    );
    const h = harness({ answers, limit: 3 });
    const [sa, sb] = await Promise.all([
      processChunk(chunkOf(a, { chunkId: 'A' }), h.deps),
      processChunk(chunkOf(b, { chunkId: 'B' }), h.deps),
    ]);
    expect(sa.submitted + sb.submitted).toBe(40);
    expect(h.maxInFlight).toBe(3);
    expect(
      h
        .nonEmpty()
        .map((p) => p.msgId)
        .sort(),
    ).toEqual(['A:submitted', 'B:submitted']);
  });
});

describe('processChunk: provider throttling (HTTP 429)', () => {
  const THROTTLED: SubmitResult = {
    ok: false,
    permanent: false,
    reason: 'HTTP 429 too many requests',
    latencyMs: 1,
    retryAfterMs: 2000,
    throttled: true,
  };

  it('a throttled message is not an attempt: the chunk comes back with the rest unsent, then sends only those', async () => {
    const messages = Array.from({ length: 6 }, (_, i) => msg(i));
    let throttling = true;
    const until = new Map<number, number>();
    const h = harness({
      limit: 1,
      maxAttempts: 1,
      answers: { [messages[2]!.to]: async () => (throttling ? THROTTLED : OK('P-late')) },
    });
    h.deps.throttle = {
      pausedForMs: (id) => Math.max(0, (until.get(id) ?? 0) - Date.now()),
      record: (id, ms) => void until.set(id, Date.now() + ms),
    };
    const err = await processChunk(chunkOf(messages), h.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayThrottledError);
    expect((err as GatewayThrottledError).pauseMs).toBe(2000);
    // Sending stopped at the throttling answer (one at a time): 0, 1 sent, 2 throttled, 3..5 held.
    expect(h.sends).toEqual(['sms-0', 'sms-1', 'sms-2']);
    expect([...(h.progress.get('abc')?.keys() ?? [])].sort()).toEqual(['sms-0', 'sms-1']);
    expect(h.publishes).toEqual([]);
    // Still paused: the chunk goes straight back without sending.
    await expect(processChunk(chunkOf(messages), h.deps)).rejects.toBeInstanceOf(GatewayThrottledError);
    expect(h.sends).toHaveLength(3);

    throttling = false;
    until.clear();
    const summary = await processChunk(chunkOf(messages), h.deps);
    // maxAttempts 1 and still submitted: the 429 did not count as an attempt.
    expect(summary).toEqual({ submitted: 6, failed: 0, retried: 0, resumed: 2 });
    expect(h.sends.slice(3).sort()).toEqual(['sms-2', 'sms-3', 'sms-4', 'sms-5']);
    expect(
      h
        .events('submitted')
        .map((e) => e.smsid)
        .sort(),
    ).toEqual(messages.map((m) => m.smsid));
  });

  it('without a throttle dependency a 429 is an ordinary temporary failure', async () => {
    const messages = [msg(1), msg(2)];
    const h = harness({ maxAttempts: 2, answers: { [messages[0]!.to]: THROTTLED } });
    const summary = await processChunk(chunkOf(messages), h.deps);
    expect(summary).toEqual({ submitted: 1, failed: 0, retried: 1, resumed: 0 });
    expect(h.retries[0]!.delayMs).toBeGreaterThanOrEqual(2000);
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt with ±25 % jitter, capped at 2^10 × base', () => {
    for (let i = 0; i < 200; i++) {
      const d1 = retryDelayMs(1000, 1);
      expect(d1).toBeGreaterThanOrEqual(750);
      expect(d1).toBeLessThanOrEqual(1250);
      const d3 = retryDelayMs(1000, 3);
      expect(d3).toBeGreaterThanOrEqual(3000);
      expect(d3).toBeLessThanOrEqual(5000);
      const d50 = retryDelayMs(100, 50);
      expect(d50).toBeGreaterThanOrEqual(100 * 1024 * 0.75);
      expect(d50).toBeLessThanOrEqual(100 * 1024 * 1.25);
      expect(Number.isInteger(d50)).toBe(true);
    }
  });
});
