import type { Chunk, OutboundSms, SmsEvent, SubmitResult, Transport } from '@smsfleet/core';
import type { Logger } from '@smsfleet/runtime';
import type { Semaphore } from './semaphore.js';

/** What the dispatcher remembers per message of a chunk (stored in the chunk's progress hash). */
export interface SendOutcome {
  r: 'ok' | 'perm' | 'temp';
  at: number;
  id?: string;
  answer?: string;
  reason?: string;
}

export interface SendProcessorDeps {
  transportFor(gatewayId: number): Transport | undefined;
  limiterFor(gatewayId: number): Semaphore;
  progress: {
    load(chunkId: string): Promise<Map<string, string>>;
    record(chunkId: string, entries: [string, string][]): Promise<void>;
    clear(chunkId: string): Promise<void>;
  };
  publish(state: 'submitted' | 'failed', events: SmsEvent[], msgId: string): Promise<void>;
  scheduleRetry(chunk: Chunk, delayMs: number): Promise<void>;
  log: Logger;
  /** Send attempts per message before it ends `failed`. */
  maxAttempts: number;
  retryBaseDelayMs: number;
  /** Results are written to Redis after this many, bounding what a crash makes us resend. */
  progressEvery?: number;
  onResult?(gatewayId: number, result: SubmitResult): void;
}

export interface ChunkSummary {
  submitted: number;
  failed: number;
  retried: number;
  resumed: number;
}

/** Base id of a chunk without its retry suffix, so retry chunks get stable, dedupable ids. */
function rootChunkId(chunkId: string): string {
  const i = chunkId.indexOf('~');
  return i < 0 ? chunkId : chunkId.slice(0, i);
}

export function retryDelayMs(baseMs: number, attempt: number): number {
  const exp = baseMs * 2 ** Math.min(attempt - 1, 10);
  // Jitter spreads the retries of many chunks that failed together.
  return Math.round(exp * (0.75 + Math.random() * 0.5));
}

/**
 * Sends the messages of one chunk that were not yet handed to the provider, records each result in
 * the chunk's progress hash as it goes, then publishes the transitions of the whole chunk in one
 * event per state and schedules a retry chunk for temporary failures. Re-running a chunk after a
 * crash resends only messages without a recorded result.
 */
export async function processChunk(chunk: Chunk, deps: SendProcessorDeps): Promise<ChunkSummary> {
  const attempt = chunk.attempt ?? 1;
  const outcomes = new Map<string, SendOutcome>();
  for (const [smsid, raw] of await deps.progress.load(chunk.chunkId)) {
    outcomes.set(smsid, JSON.parse(raw) as SendOutcome);
  }
  const resumed = outcomes.size;
  const pending = resumed ? chunk.messages.filter((m) => !outcomes.has(m.smsid)) : chunk.messages;
  const transport = deps.transportFor(chunk.gatewayId);
  const limiter = deps.limiterFor(chunk.gatewayId);
  const progressEvery = deps.progressEvery ?? 32;

  let unrecorded: [string, string][] = [];
  let recording: Promise<void> = Promise.resolve();
  const flush = () => {
    if (unrecorded.length === 0) return;
    const entries = unrecorded;
    unrecorded = [];
    recording = recording.then(() => deps.progress.record(chunk.chunkId, entries));
    // Handled later by `await recording`; without this a failed write while sends are still in
    // flight would be an unhandled rejection that kills the process.
    recording.catch(() => undefined);
  };

  const sendOne = async (m: OutboundSms): Promise<void> => {
    let outcome: SendOutcome;
    if (!transport) {
      outcome = { r: 'perm', at: Date.now(), reason: `gateway ${chunk.gatewayId} is not configured` };
    } else {
      await limiter.acquire();
      let res: SubmitResult;
      try {
        res = await transport.send(m);
      } catch (err) {
        res = { ok: false, permanent: false, reason: (err as Error).message, latencyMs: 0 };
      } finally {
        limiter.release();
      }
      try {
        deps.onResult?.(chunk.gatewayId, res);
      } catch {
        // metrics must never fail a send
      }
      outcome = res.ok
        ? { r: 'ok', at: Date.now(), id: res.providerMessageId, answer: res.answer }
        : { r: res.permanent ? 'perm' : 'temp', at: Date.now(), reason: res.reason, answer: res.answer };
    }
    outcomes.set(m.smsid, outcome);
    unrecorded.push([m.smsid, JSON.stringify(outcome)]);
    if (unrecorded.length >= progressEvery) flush();
  };

  // allSettled: a failing send must not leave the others running after the chunk has failed.
  const settled = await Promise.allSettled(pending.map(sendOne));
  const broken = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (broken) throw broken.reason;
  flush();
  await recording;

  const submitted: SmsEvent[] = [];
  const failed: SmsEvent[] = [];
  const retry: OutboundSms[] = [];
  for (const m of chunk.messages) {
    const o = outcomes.get(m.smsid);
    if (!o) continue; // cannot happen: every pending message got an outcome
    if (o.r === 'ok') {
      submitted.push({
        smsid: m.smsid,
        state: 'submitted',
        at: o.at,
        msg: m,
        providerMessageId: o.id,
        answer: o.answer,
        submittedAt: o.at,
      });
    } else if (o.r === 'temp' && attempt < deps.maxAttempts) {
      retry.push(m);
    } else {
      const reason = o.r === 'temp' ? `${o.reason} (gave up after ${attempt} attempts)` : o.reason;
      failed.push({ smsid: m.smsid, state: 'failed', at: o.at, msg: m, reason, answer: o.answer });
    }
    deps.log.info(
      {
        smsid: m.smsid,
        gatewayId: chunk.gatewayId,
        state: o.r === 'ok' ? 'submitted' : o.r === 'temp' && attempt < deps.maxAttempts ? 'retry' : 'failed',
        attempt,
        reason: o.reason,
      },
      'sms state',
    );
  }
  // msgIds make a republish after a crash (same chunk, same outcomes) a JetStream duplicate.
  await Promise.all([
    deps.publish('submitted', submitted, `${chunk.chunkId}:submitted`),
    deps.publish('failed', failed, `${chunk.chunkId}:failed`),
  ]);
  if (retry.length) {
    await deps.scheduleRetry(
      {
        chunkId: `${rootChunkId(chunk.chunkId)}~${attempt + 1}`,
        gatewayId: chunk.gatewayId,
        messages: retry,
        attempt: attempt + 1,
      },
      retryDelayMs(deps.retryBaseDelayMs, attempt),
    );
  }
  await deps.progress.clear(chunk.chunkId);
  return { submitted: submitted.length, failed: failed.length, retried: retry.length, resumed };
}
