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
  /** The provider reports the final state later (receipt / callback). */
  rcpt?: boolean;
  parts?: string[];
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
  /** Routing failover (failover.ts): returns the events that stay `failed`; the others were re-queued. */
  failover?(chunk: Chunk, failed: SmsEvent[]): Promise<SmsEvent[]>;
  /** Per-gateway retry policy (settings); falls back to maxAttempts / retryBaseDelayMs. */
  policyFor?(gatewayId: number): { maxAttempts?: number; retryBaseDelayMs?: number };
  /** Waits for the gateway's messages-per-second slot (shared across replicas); undefined = no limit. */
  rateGateFor?(gatewayId: number): { take(signal?: AbortSignal): Promise<void> } | undefined;
  /**
   * The gateway asked us to slow down (HTTP 429): this process holds its chunks back until the
   * pause ends. Throttled messages are resent then, without burning one of their attempts.
   */
  throttle?: {
    pausedForMs(gatewayId: number): number;
    record(gatewayId: number, pauseMs: number): void;
  };
  /**
   * Aborted when the process shuts down (SIGTERM): sends not yet started are left unsent, what was
   * sent is recorded, and the chunk goes back to the queue (HandBackError) for another worker.
   */
  stopping?: AbortSignal;
  /** Pauses a gateway that keeps failing instead of burning retries. */
  breaker?: {
    pausedForMs(gatewayId: number): Promise<number>;
    recordFailure(gatewayId: number, reason: string): Promise<number>;
    recordSuccess(gatewayId: number): Promise<void>;
  };
}

/**
 * The gateway's circuit is open: the chunk (with what it already sent recorded) goes back to the
 * queue for `pauseMs`, keeping its attempt count.
 */
export class GatewayPausedError extends Error {
  readonly code = 'GATEWAY_PAUSED';
  constructor(
    readonly gatewayId: number,
    readonly pauseMs: number,
  ) {
    super(`gateway ${gatewayId} paused for ${pauseMs} ms (circuit open)`);
  }
}

/**
 * The provider throttles (HTTP 429): the chunk (with what it already sent recorded) goes back to
 * the queue for `pauseMs`, keeping its attempt count; the throttled messages are resent then.
 */
export class GatewayThrottledError extends GatewayPausedError {
  constructor(gatewayId: number, pauseMs: number) {
    super(gatewayId, pauseMs);
    this.message = `gateway ${gatewayId} throttled: resuming in ${pauseMs} ms`;
  }
}

/**
 * The process is shutting down: the chunk goes back to the queue at once with what it already
 * sent recorded, so another worker sends only the rest (nothing twice).
 */
export class HandBackError extends GatewayPausedError {
  constructor(gatewayId: number) {
    super(gatewayId, 0);
    this.message = `chunk handed back: the dispatcher is shutting down`;
  }
}

/** Pause after a throttling answer without Retry-After. */
export const DEFAULT_THROTTLE_PAUSE_MS = 1000;

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
  const policy = deps.policyFor?.(chunk.gatewayId) ?? {};
  const maxAttempts = policy.maxAttempts ?? deps.maxAttempts;
  const retryBaseDelayMs = policy.retryBaseDelayMs ?? deps.retryBaseDelayMs;
  const rateGate = transport ? deps.rateGateFor?.(chunk.gatewayId) : undefined;
  const breaker = transport ? deps.breaker : undefined;
  let pausedMs = breaker ? await breaker.pausedForMs(chunk.gatewayId) : 0;
  if (pausedMs > 0) throw new GatewayPausedError(chunk.gatewayId, pausedMs);
  const throttle = transport ? deps.throttle : undefined;
  let throttledMs = throttle ? throttle.pausedForMs(chunk.gatewayId) : 0;
  if (throttledMs > 0) throw new GatewayThrottledError(chunk.gatewayId, throttledMs);
  // Sending stops for this chunk (the rest stays unsent, without an outcome) when either is set.
  const halted = () => pausedMs > 0 || throttledMs > 0 || deps.stopping?.aborted === true;
  let retryAfterMs = 0;

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
      // Circuit opened or provider throttling while this chunk was sending: leave the rest unsent
      // (no outcome recorded).
      if (halted()) return;
      if (rateGate) await rateGate.take();
      if (halted()) return;
      await limiter.acquire();
      if (halted()) {
        limiter.release();
        return;
      }
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
      if (!res.ok && res.throttled === true && throttle) {
        // Not taken by the provider: no outcome, so it is sent again when the chunk comes back.
        const ms = Math.max(res.retryAfterMs ?? DEFAULT_THROTTLE_PAUSE_MS, 1);
        throttle.record(chunk.gatewayId, ms);
        if (ms > throttledMs) throttledMs = ms;
        return;
      }
      if (breaker) {
        if (res.ok) await breaker.recordSuccess(chunk.gatewayId);
        else if (!res.permanent) {
          const p = await breaker.recordFailure(chunk.gatewayId, res.reason);
          if (p > pausedMs) pausedMs = p;
        }
      }
      if (!res.ok && res.retryAfterMs !== undefined && res.retryAfterMs > retryAfterMs)
        retryAfterMs = res.retryAfterMs;
      outcome = res.ok
        ? {
            r: 'ok',
            at: Date.now(),
            id: res.providerMessageId,
            answer: res.answer,
            rcpt: res.awaitReceipt,
            parts: res.partIds,
          }
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
  if (halted() && chunk.messages.some((m) => !outcomes.has(m.smsid)))
    throw pausedMs > 0
      ? new GatewayPausedError(chunk.gatewayId, pausedMs)
      : throttledMs > 0
        ? new GatewayThrottledError(chunk.gatewayId, throttledMs)
        : new HandBackError(chunk.gatewayId);

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
        awaitReceipt: o.rcpt,
        partIds: o.parts,
      });
    } else if (o.r === 'temp' && attempt < maxAttempts) {
      retry.push(m);
    } else {
      const reason = o.r === 'temp' ? `${o.reason} (gave up after ${attempt} attempts)` : o.reason;
      failed.push({ smsid: m.smsid, state: 'failed', at: o.at, msg: m, reason, answer: o.answer });
    }
    deps.log.info(
      {
        smsid: m.smsid,
        gatewayId: chunk.gatewayId,
        state: o.r === 'ok' ? 'submitted' : o.r === 'temp' && attempt < maxAttempts ? 'retry' : 'failed',
        attempt,
        reason: o.reason,
      },
      'sms state',
    );
  }
  // Failover (routing issue, failover.ts): failed messages may move to their next route instead.
  const finalFailed = deps.failover ? await deps.failover(chunk, failed) : failed;
  // msgIds make a republish after a crash (same chunk, same outcomes) a JetStream duplicate.
  await Promise.all([
    deps.publish('submitted', submitted, `${chunk.chunkId}:submitted`),
    deps.publish('failed', finalFailed, `${chunk.chunkId}:failed`),
  ]);
  if (retry.length) {
    await deps.scheduleRetry(
      {
        chunkId: `${rootChunkId(chunk.chunkId)}~${attempt + 1}`,
        gatewayId: chunk.gatewayId,
        messages: retry,
        attempt: attempt + 1,
      },
      // A provider's Retry-After wins when it asks for longer than our backoff.
      Math.max(retryDelayMs(retryBaseDelayMs, attempt), retryAfterMs),
    );
  }
  await deps.progress.clear(chunk.chunkId);
  return { submitted: submitted.length, failed: finalFailed.length, retried: retry.length, resumed };
}
