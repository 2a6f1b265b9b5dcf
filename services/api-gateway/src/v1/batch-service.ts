import type { ConfigSnapshot } from '@smsfleet/config';
import { newSmsId, type Chunk, type OutboundSms, type SmsEvent } from '@smsfleet/core';
import { type BatchesRepo, type Batch } from '@smsfleet/db';
import { CANCELLED_REASON, type ChunkProducer, type MessageStatusStore, type Redis } from '@smsfleet/queue';
import type { Logger } from '@smsfleet/runtime';
import type { V1Principal } from './api-key-auth.js';
import { ProblemError } from './problem.js';
import type { Recipient } from './recipients.js';
import type { SendPort } from './send-port.js';

/** How a batch looks to clients (GET /v1/batches/{id}). */
export interface BatchView {
  id: string;
  state: Batch['state'];
  total: number;
  queued: number;
  submitted: number;
  delivered: number;
  failed: number;
  unknown: number;
  completed: number;
  cancelled: number;
  scheduledAt: string | null;
  createdAt: string;
}

export interface BatchServiceDeps {
  redis: Redis;
  /** Redis key prefix (the fleet's queue prefix). */
  prefix: string;
  batches: BatchesRepo;
  status: MessageStatusStore;
  producer: ChunkProducer;
  send: SendPort;
  publish(state: 'accepted' | 'failed', events: SmsEvent[], msgId: string): Promise<void>;
  log: Logger;
  chunkSize: number;
  /** Chunks per `addBulk`. */
  chunksPerAdd?: number;
  /** Retry chunks the dispatcher may create (`<chunkId>~2` ...), also removed on cancel. */
  maxAttempts?: number;
}

const KEY_TTL_SECONDS = 7 * 24 * 3600;
/** A queuing replica refreshes its claim at least this often (once per addBulk). */
const OWNER_TTL_SECONDS = 30;

/**
 * /v1 batches: validated and priced as a whole (the SendService's rules, one credit reservation
 * per distinct text), answered at once, then queued chunk by chunk with one `addBulk` per few
 * chunks. Chunk ids are `<batchId>-<n>` and listed in Redis per batch, so a cancel on any replica
 * can remove the chunks no dispatcher has taken.
 */
export class BatchService {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: BatchServiceDeps) {}

  private jobsKey(id: string): string {
    return `${this.deps.prefix}:batch-jobs:${id}`;
  }

  private cancelKey(id: string): string {
    return `${this.deps.prefix}:batch-cancel:${id}`;
  }

  /** Chunk ids whose `addBulk` returned. */
  private addedKey(id: string): string {
    return `${this.deps.prefix}:batch-added:${id}`;
  }

  /** The prepared messages until every chunk is queued: another replica resumes from it. */
  private payloadKey(id: string): string {
    return `${this.deps.prefix}:batch-payload:${id}`;
  }

  /** Refreshed while a replica queues the batch; its absence means the queuing replica died. */
  private ownerKey(id: string): string {
    return `${this.deps.prefix}:batch-owner:${id}`;
  }

  /**
   * Reserves and persists the batch, then starts queuing in the background. Throws (nothing
   * reserved, nothing queued) when any recipient is refused.
   */
  async create(
    principal: V1Principal,
    recipients: Recipient[],
    opts: { scheduleAt?: Date; clientIp: string; cfg: ConfigSnapshot },
  ): Promise<BatchView> {
    const id = newSmsId();
    const messages = await this.deps.send.prepareBatch(principal, recipients, {
      batchId: id,
      clientIp: opts.clientIp,
      cfg: opts.cfg,
    });
    try {
      // Durable before the answer: if this replica dies while queuing, another one resumes.
      await this.deps.redis
        .multi()
        .set(this.payloadKey(id), JSON.stringify(messages.messages), 'EX', KEY_TTL_SECONDS)
        .set(this.ownerKey(id), '1', 'EX', OWNER_TTL_SECONDS)
        .exec();
      await this.deps.batches.create({
        id,
        userId: principal.userId,
        total: messages.messages.length,
        scheduledAt: opts.scheduleAt ?? null,
      });
    } catch (err) {
      await this.deps.redis.del(this.payloadKey(id), this.ownerKey(id)).catch(() => undefined);
      await messages.giveBack();
      this.deps.log.error({ err: (err as Error).message }, 'batch not stored');
      throw new ProblemError('UNAVAILABLE', 'the batch could not be stored, try again');
    }
    const p = this.enqueue(id, messages.messages, opts.scheduleAt)
      .catch((err: Error) => this.deps.log.error({ batchId: id, err: err.message }, 'batch queuing failed'))
      .finally(() => this.running.delete(p));
    this.running.add(p);
    const now = new Date();
    return toView(
      {
        id,
        userId: principal.userId,
        total: messages.messages.length,
        state: 'queuing',
        reason: '',
        scheduledAt: opts.scheduleAt ?? null,
        createdAt: now,
        updatedAt: now,
      },
      undefined,
    );
  }

  private chunk(id: string, messages: OutboundSms[]): Chunk[] {
    const byGateway = new Map<number, OutboundSms[]>();
    for (const m of messages) {
      const l = byGateway.get(m.gatewayId);
      if (l) l.push(m);
      else byGateway.set(m.gatewayId, [m]);
    }
    const chunks: Chunk[] = [];
    for (const [gatewayId, list] of byGateway)
      for (let i = 0; i < list.length; i += this.deps.chunkSize)
        chunks.push({
          chunkId: `${id}-${chunks.length}`,
          gatewayId,
          messages: list.slice(i, i + this.deps.chunkSize),
          attempt: 1,
        });
    return chunks;
  }

  private async enqueue(
    id: string,
    messages: OutboundSms[],
    scheduleAt: Date | undefined,
    resumed = false,
  ): Promise<void> {
    const { redis, producer, log } = this.deps;
    let chunks = this.chunk(id, messages);
    if (resumed) chunks = await this.notYetQueued(chunks, id);
    const per = this.deps.chunksPerAdd ?? 10;
    const publishing: Promise<unknown>[] = [];
    let i = 0;
    try {
      for (; i < chunks.length; i += per) {
        await redis.set(this.ownerKey(id), '1', 'EX', OWNER_TTL_SECONDS);
        if ((await redis.exists(this.cancelKey(id))) === 1) {
          await this.failChunks(chunks.slice(i), CANCELLED_REASON);
          return;
        }
        const group = chunks.slice(i, i + per);
        // Listed before they exist: a cancel that runs while they are being added still sees them.
        await redis
          .multi()
          .rpush(this.jobsKey(id), ...group.map((c) => `${c.gatewayId}/${c.chunkId}`))
          .expire(this.jobsKey(id), KEY_TTL_SECONDS)
          .exec();
        const delayMs = scheduleAt ? Math.max(0, scheduleAt.getTime() - Date.now()) : 0;
        await producer.addChunks(group, { delayMs });
        await redis
          .multi()
          .rpush(this.addedKey(id), ...group.map((c) => c.chunkId))
          .expire(this.addedKey(id), KEY_TTL_SECONDS)
          .exec();
        const now = Date.now();
        // The accepted events are information (status store, dashboards); the messages are durable,
        // so the next addBulk does not wait for JetStream's acks.
        publishing.push(
          ...group.map((c) =>
            this.deps
              .publish(
                'accepted',
                c.messages.map((m) => ({ smsid: m.smsid, state: 'accepted' as const, at: now, msg: m })),
                `accepted:${c.chunkId}`,
              )
              .catch((err: Error) =>
                log.warn({ batchId: id, err: err.message }, 'accepted event not published'),
              ),
          ),
        );
        // A cancel that ran while this group was added may have missed it: remove it ourselves.
        if ((await redis.exists(this.cancelKey(id))) === 1) {
          await this.removeChunks(group.map((c) => ({ gatewayId: c.gatewayId, chunkId: c.chunkId })));
          i += per;
          await this.failChunks(chunks.slice(i), CANCELLED_REASON);
          return;
        }
      }
      await this.deps.batches.transition(id, ['queuing'], 'queued');
      log.info({ batchId: id, messages: messages.length, chunks: chunks.length, resumed }, 'batch queued');
    } catch (err) {
      // Redis or MySQL failed midway: what is not queued ends failed (billing returns its credit).
      const reason = `not queued: ${(err as Error).message}`.slice(0, 200);
      await this.deps.batches.transition(id, ['queuing'], 'failed', reason).catch(() => undefined);
      await this.failChunks(chunks.slice(i), reason);
      throw err;
    } finally {
      await Promise.allSettled(publishing);
      await redis.del(this.payloadKey(id), this.ownerKey(id)).catch(() => undefined);
    }
  }

  /**
   * After a crash: the chunks to add again. Chunks whose add returned are skipped; a chunk listed
   * but not known to have been added is skipped only if its job exists (it may have been sent and
   * removed in the instant before the crash: then it is sent again, at least once, and billing
   * still writes one CDR).
   */
  private async notYetQueued(chunks: Chunk[], id: string): Promise<Chunk[]> {
    const added = new Set(await this.deps.redis.lrange(this.addedKey(id), 0, -1));
    const out: Chunk[] = [];
    for (const c of chunks) {
      if (added.has(c.chunkId)) continue;
      if (await this.deps.producer.queue(c.gatewayId).getJob(c.chunkId)) continue;
      out.push(c);
    }
    return out;
  }

  /**
   * Resumes batches whose queuing replica died (no owner heartbeat for a while): runs on every
   * replica now and then; a lock lets one of them take each batch.
   */
  async resumeOrphans(): Promise<number> {
    const stale = await this.deps.batches.listStale(
      'queuing',
      new Date(Date.now() - 2 * OWNER_TTL_SECONDS * 1000),
    );
    let resumed = 0;
    for (const b of stale) {
      if ((await this.deps.redis.exists(this.ownerKey(b.id))) === 1) continue;
      if (
        (await this.deps.redis.set(`${this.deps.prefix}:batch-resume:${b.id}`, '1', 'EX', 300, 'NX')) !== 'OK'
      )
        continue;
      const raw = await this.deps.redis.get(this.payloadKey(b.id));
      if (raw === null) {
        this.deps.log.error({ batchId: b.id }, 'batch payload lost: the batch cannot be resumed');
        await this.deps.batches.transition(b.id, ['queuing'], 'failed', 'payload lost while queuing');
        continue;
      }
      const messages = JSON.parse(raw) as OutboundSms[];
      this.deps.log.warn({ batchId: b.id, messages: messages.length }, 'resuming a batch whose replica died');
      const p = this.enqueue(b.id, messages, b.scheduledAt ?? undefined, true)
        .catch((err: Error) =>
          this.deps.log.error({ batchId: b.id, err: err.message }, 'batch queuing failed'),
        )
        .finally(() => this.running.delete(p));
      this.running.add(p);
      resumed++;
    }
    return resumed;
  }

  /** Publishes `failed` for messages that will never be sent, so each gets its final state and CDR. */
  private async failChunks(chunks: Chunk[], reason: string): Promise<void> {
    const now = Date.now();
    for (const c of chunks) {
      const events: SmsEvent[] = c.messages.map((m) => ({
        smsid: m.smsid,
        state: 'failed',
        at: now,
        msg: m,
        reason,
      }));
      await this.deps.publish('failed', events, `cancel:${c.chunkId}`);
    }
  }

  /**
   * Removes chunks no dispatcher has taken (waiting or delayed) and fails their messages with
   * reason `cancelled`. A chunk being sent (locked by a worker) cannot be removed and finishes.
   */
  private async removeChunks(refs: { gatewayId: number; chunkId: string }[]): Promise<number> {
    const attempts = this.deps.maxAttempts ?? 5;
    let removed = 0;
    const work = refs.flatMap((r) => {
      const ids = [r.chunkId];
      for (let k = 2; k <= attempts; k++) ids.push(`${r.chunkId}~${k}`);
      return ids.map((jobId) => ({ gatewayId: r.gatewayId, jobId }));
    });
    const parallel = 16;
    for (let i = 0; i < work.length; i += parallel) {
      await Promise.all(
        work.slice(i, i + parallel).map(async ({ gatewayId, jobId }) => {
          const job = await this.deps.producer.queue(gatewayId).getJob(jobId);
          if (!job) return;
          const state = await job.getState();
          if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return;
          try {
            await job.remove();
          } catch {
            return; // taken by a dispatcher (or removed by a concurrent cancel) in the meantime
          }
          removed += job.data.messages.length;
          await this.failChunks([job.data], CANCELLED_REASON);
        }),
      );
    }
    return removed;
  }

  private async load(principal: V1Principal, id: string): Promise<Batch> {
    const b = /^[0-9a-f-]{36}$/.test(id) ? await this.deps.batches.get(id) : undefined;
    if (!b || (!principal.admin && b.userId !== principal.userId))
      throw new ProblemError('NOT_FOUND', `no batch ${id.slice(0, 40)}`);
    return b;
  }

  async get(principal: V1Principal, id: string): Promise<BatchView> {
    const b = await this.load(principal, id);
    return toView(b, await this.deps.status.batchCounters(id));
  }

  async cancel(principal: V1Principal, id: string): Promise<BatchView> {
    const b = await this.load(principal, id);
    if (b.state === 'failed')
      throw new ProblemError('CONFLICT', `batch ${id} failed and has nothing to cancel`);
    if (b.state !== 'cancelled') {
      // The flag first: the queuing loop stops adding chunks and fails the rest itself.
      await this.deps.redis.set(this.cancelKey(id), '1', 'EX', KEY_TTL_SECONDS);
      await this.deps.batches.transition(id, ['queuing', 'queued'], 'cancelled');
      const refs = (await this.deps.redis.lrange(this.jobsKey(id), 0, -1)).map((s) => {
        const slash = s.indexOf('/');
        return { gatewayId: Number(s.slice(0, slash)), chunkId: s.slice(slash + 1) };
      });
      const removed = await this.removeChunks(refs);
      this.deps.log.info({ batchId: id, removed }, 'batch cancelled');
    }
    return this.get(principal, id);
  }

  /** Lets batches being queued finish (shutdown): their messages are already paid for. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

function toView(
  b: Batch,
  c: Awaited<ReturnType<MessageStatusStore['batchCounters']>> | undefined,
): BatchView {
  const n = (k: keyof NonNullable<typeof c>) => c?.[k] ?? 0;
  return {
    id: b.id,
    state: b.state,
    total: b.total,
    queued: Math.max(0, n('accepted') - n('left')),
    submitted: n('submitted'),
    delivered: n('delivered'),
    failed: n('failed') + n('undelivered') + n('expired') + n('rejected'),
    unknown: n('unknown'),
    completed: n('final'),
    cancelled: n('cancelled'),
    scheduledAt: b.scheduledAt ? b.scheduledAt.toISOString() : null,
    createdAt: b.createdAt.toISOString(),
  };
}
