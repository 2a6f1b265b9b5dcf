import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Chunk } from '@smsfleet/core';

export const CHUNK_JOB_NAME = 'chunk';

/** Queue name of a gateway: one queue per gateway, as in Jasmin's one queue per connector. */
export function gatewayQueueName(gatewayId: number): string {
  return `gw-${gatewayId}`;
}

export interface ChunkQueueOptions {
  connection: Redis;
  prefix: string;
  /** Whole-chunk retries (Redis/NATS hiccups inside the dispatcher); messages have their own budget. */
  attempts?: number;
}

export const DEFAULT_CHUNK_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { count: 10_000 },
};

/**
 * Adds chunks to the queues of their gateways, one `addBulk` per gateway. The chunk id is the job
 * id, so adding the same chunk twice (a retry chunk re-added after a crash) is a no-op.
 */
export class ChunkProducer {
  private readonly queues = new Map<number, Queue<Chunk>>();
  private closed: Promise<void> | undefined;

  constructor(private readonly opts: ChunkQueueOptions) {}

  queue(gatewayId: number): Queue<Chunk> {
    let q = this.queues.get(gatewayId);
    if (!q) {
      q = new Queue<Chunk>(gatewayQueueName(gatewayId), {
        connection: this.opts.connection,
        prefix: this.opts.prefix,
        defaultJobOptions: {
          ...DEFAULT_CHUNK_JOB_OPTIONS,
          attempts: this.opts.attempts ?? DEFAULT_CHUNK_JOB_OPTIONS.attempts,
        },
      });
      this.queues.set(gatewayId, q);
    }
    return q;
  }

  async addChunks(chunks: Chunk[], opts: { delayMs?: number } = {}): Promise<void> {
    const byGateway = new Map<number, Chunk[]>();
    for (const c of chunks) {
      const list = byGateway.get(c.gatewayId);
      if (list) list.push(c);
      else byGateway.set(c.gatewayId, [c]);
    }
    await Promise.all(
      [...byGateway].map(([gatewayId, list]) =>
        this.queue(gatewayId).addBulk(
          list.map((c) => ({
            name: CHUNK_JOB_NAME,
            data: c,
            opts: { jobId: c.chunkId, ...(opts.delayMs ? { delay: opts.delayMs } : {}) },
          })),
        ),
      ),
    );
  }

  close(): Promise<void> {
    this.closed ??= Promise.allSettled([...this.queues.values()].map((q) => q.close())).then(() => undefined);
    return this.closed;
  }
}
