import { describe, expect, it } from 'vitest';
import type { Chunk, OutboundSms, SmsEvent, SubmitResult, Transport } from '@smsfleet/core';
import type { Logger } from '@smsfleet/runtime';
import { Semaphore } from './semaphore.js';
import { HandBackError, processChunk, type SendProcessorDeps } from './send-processor.js';

const GW = 3;
const silentLog = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

function msg(i: number): OutboundSms {
  return {
    smsid: `s-${i}`,
    userId: 1,
    gatewayId: GW,
    from: 'x',
    to: `3620${String(i).padStart(7, '0')}`,
    text: 't',
    encoding: 'GSM7',
    segments: 1,
    clientIp: '',
    acceptedAt: 0,
  };
}

/** A provider that answers after `ms`, calling `onSend` as each send starts. */
function setup(stopAfter: number) {
  const progress = new Map<string, Map<string, string>>();
  const sent: string[] = [];
  const published: SmsEvent[] = [];
  const stopping = new AbortController();
  const transport: Transport = {
    async send(m: OutboundSms): Promise<SubmitResult> {
      sent.push(m.smsid);
      if (sent.length === stopAfter) stopping.abort();
      await new Promise((r) => setTimeout(r, 5));
      return { ok: true, providerMessageId: `P-${m.smsid}`, answer: 'OK', latencyMs: 5 };
    },
    close: () => Promise.resolve(),
  };
  const deps: SendProcessorDeps = {
    transportFor: () => transport,
    limiterFor: () => new Semaphore(2),
    progress: {
      load: (id) => Promise.resolve(new Map(progress.get(id) ?? [])),
      record: (id, entries) => {
        const p = progress.get(id) ?? new Map<string, string>();
        for (const [k, v] of entries) p.set(k, v);
        progress.set(id, p);
        return Promise.resolve();
      },
      clear: (id) => {
        progress.delete(id);
        return Promise.resolve();
      },
    },
    publish: (_state, events) => {
      published.push(...events);
      return Promise.resolve();
    },
    scheduleRetry: () => Promise.resolve(),
    log: silentLog,
    maxAttempts: 3,
    retryBaseDelayMs: 10,
    stopping: stopping.signal,
  };
  return { deps, sent, published, progress, stopping };
}

describe('a chunk being sent when the dispatcher stops (SIGTERM)', () => {
  it('finishes the sends in flight, records them and hands the rest back; the rerun sends each once', async () => {
    const chunk: Chunk = {
      chunkId: 'c1',
      gatewayId: GW,
      messages: Array.from({ length: 20 }, (_, i) => msg(i)),
      attempt: 1,
    };
    const first = setup(5);
    await expect(processChunk(chunk, first.deps)).rejects.toBeInstanceOf(HandBackError);
    // Two sends in flight (limiter 2) when it stopped: at most 6 sent, none published yet.
    expect(first.sent.length).toBeGreaterThanOrEqual(5);
    expect(first.sent.length).toBeLessThan(20);
    expect(first.published).toEqual([]);
    expect(first.progress.get('c1')?.size).toBe(first.sent.length);

    // Another worker takes the chunk over with the recorded progress.
    const second = setup(Infinity);
    second.progress.set('c1', first.progress.get('c1')!);
    const summary = await processChunk(chunk, second.deps);
    expect(summary.resumed).toBe(first.sent.length);
    expect([...first.sent, ...second.sent].sort()).toEqual(chunk.messages.map((m) => m.smsid).sort());
    expect(second.published.map((e) => e.smsid).sort()).toEqual(chunk.messages.map((m) => m.smsid).sort());
  });

  it('a chunk that starts after the stop sends nothing and goes back', async () => {
    const chunk: Chunk = { chunkId: 'c2', gatewayId: GW, messages: [msg(1), msg(2)], attempt: 1 };
    const s = setup(Infinity);
    s.stopping.abort();
    await expect(processChunk(chunk, s.deps)).rejects.toBeInstanceOf(HandBackError);
    expect(s.sent).toEqual([]);
  });
});
