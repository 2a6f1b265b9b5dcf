import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { Knex } from '@smsfleet/db';
import type { SmsEvent } from '@smsfleet/core';
import { Queue, Worker, type Job, type Redis } from '@smsfleet/queue';

export interface WebhookJob {
  url: string;
  userId: number;
  body: string;
}

/** The JSON a sender's webhook receives for one status change. */
export function webhookBody(e: SmsEvent): string {
  return JSON.stringify({
    smsid: e.smsid,
    state: e.state,
    at: new Date(e.at).toISOString(),
    to: e.msg.to,
    from: e.msg.from,
    segments: e.msg.segments,
    batchId: e.msg.batchId,
    providerMessageId: e.providerMessageId,
    reason: e.reason,
  });
}

/** `X-Smsfleet-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body with the user's secret. */
export function signWebhook(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Retry delays: doubling from 1 s, at most an hour apart, for 24 hours (then dead letter). */
export function webhookRetryDelay(attemptsMade: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), 3600_000);
}
export const WEBHOOK_ATTEMPTS = 36; // 1+2+...+2048 s (~68 min) then hourly: about 24 h in all

interface Target {
  url: string | null;
  secret: string | null;
}

/**
 * Status webhooks: every transition of a message with a callback URL (its own, or its user's
 * `webhook_url`) becomes one BullMQ job (job id smsid~state, so a redelivered event queues nothing
 * twice), posted with an HMAC signature and retried with backoff for 24 hours; jobs that still
 * fail stay in the queue's failed set — the dead letter list that `smsfleet webhook replay` retries.
 */
export class Webhooks {
  readonly queue: Queue<WebhookJob>;
  private worker: Worker<WebhookJob> | undefined;
  private readonly targets = new Map<number, { t: Target; until: number }>();

  constructor(private readonly deps: { redis: Redis; prefix: string; db: Knex; timeoutMs: number }) {
    this.queue = new Queue<WebhookJob>('webhooks', { connection: deps.redis, prefix: deps.prefix });
  }

  private async targetsOf(userIds: number[]): Promise<Map<number, Target>> {
    const now = Date.now();
    const out = new Map<number, Target>();
    const missing: number[] = [];
    for (const id of new Set(userIds)) {
      const hit = this.targets.get(id);
      if (hit && hit.until > now) out.set(id, hit.t);
      else missing.push(id);
    }
    if (missing.length) {
      const rows = (await this.deps
        .db('users')
        .select('id', 'webhook_url', 'webhook_secret')
        .whereIn('id', missing)) as {
        id: number;
        webhook_url: string | null;
        webhook_secret: string | null;
      }[];
      for (const id of missing) {
        const r = rows.find((x) => Number(x.id) === id);
        const t = { url: r?.webhook_url ?? null, secret: r?.webhook_secret ?? null };
        this.targets.set(id, { t, until: now + 10_000 });
        out.set(id, t);
      }
    }
    return out;
  }

  /** Queues the webhook calls for a batch of transitions. */
  async enqueue(events: SmsEvent[]): Promise<number> {
    const targets = await this.targetsOf(events.map((e) => e.msg.userId));
    const jobs: { name: string; data: WebhookJob; opts: object }[] = [];
    for (const e of events) {
      const url = e.msg.callbackUrl ?? targets.get(e.msg.userId)?.url;
      if (!url) continue;
      jobs.push({
        name: 'status',
        data: { url, userId: e.msg.userId, body: webhookBody(e) },
        opts: {
          // One call per state: the `failed` transition and the final `failed` share an id.
          jobId: `${e.smsid}~${e.state}`, // BullMQ ids may not contain ":"
          attempts: WEBHOOK_ATTEMPTS,
          backoff: { type: 'webhook' },
          // Completed ids stay an hour, so a redelivered event within it queues nothing new.
          removeOnComplete: { age: 3600 },
          removeOnFail: false,
        },
      });
    }
    if (jobs.length) await this.queue.addBulk(jobs);
    return jobs.length;
  }

  start(concurrency: number): void {
    this.worker = new Worker<WebhookJob>(
      'webhooks',
      async (job: Job<WebhookJob>) => {
        const secret = (await this.targetsOf([job.data.userId])).get(job.data.userId)?.secret ?? '';
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'user-agent': 'smsfleet-webhooks',
        };
        if (secret) headers['x-smsfleet-signature'] = signWebhook(job.data.body, secret);
        const res = await request(job.data.url, {
          method: 'POST',
          body: job.data.body,
          headers,
          headersTimeout: this.deps.timeoutMs,
          bodyTimeout: this.deps.timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode >= 300) throw new Error(`webhook answered HTTP ${res.statusCode}`);
      },
      {
        connection: this.deps.redis,
        prefix: this.deps.prefix,
        concurrency,
        settings: { backoffStrategy: (attemptsMade: number) => webhookRetryDelay(attemptsMade) },
      },
    );
  }

  async backlog(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'active');
    return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.worker?.close(), this.queue.close()]);
  }
}
