import { newSmsId, type Chunk, type OutboundSms, type SmsEvent } from '@smsfleet/core';
import { MicroBatcher } from '@smsfleet/queue';

export interface AcceptPipelineDeps {
  addChunks(chunks: Chunk[]): Promise<void>;
  publishAccepted(events: SmsEvent[], msgId: string): Promise<void>;
  chunkSize: number;
  batchWaitMs: number;
  maxConcurrentFlushes?: number;
  onPublishError?(err: unknown): void;
  /** Called once messages are durable (logs and metrics of the `accepted` state). */
  onAccepted?(msgs: OutboundSms[]): void;
}

/**
 * Makes accepted messages durable: single requests arriving close together are gathered for a few
 * milliseconds, cut into chunks per gateway (the queue's unit of work) and added with one
 * `addBulk` per gateway. A caller's promise settles once its message is in Redis.
 */
export class AcceptPipeline {
  private readonly batcher: MicroBatcher<OutboundSms>;

  constructor(private readonly deps: AcceptPipelineDeps) {
    this.batcher = new MicroBatcher<OutboundSms>({
      maxItems: deps.chunkSize,
      maxWaitMs: deps.batchWaitMs,
      // Group commit: under load, batches grow while earlier ones are being written.
      maxConcurrentFlushes: deps.maxConcurrentFlushes ?? 2,
      flush: (items) => this.flush(items),
    });
  }

  accept(msg: OutboundSms): Promise<void> {
    return this.batcher.add(msg);
  }

  acceptMany(msgs: OutboundSms[]): Promise<void> {
    return this.batcher.addMany(msgs);
  }

  private async flush(items: OutboundSms[]): Promise<void> {
    const chunks = toChunks(items, this.deps.chunkSize);
    await this.deps.addChunks(chunks);
    this.deps.onAccepted?.(items);
    const now = Date.now();
    const events: SmsEvent[] = items.map((m) => ({ smsid: m.smsid, state: 'accepted', at: now, msg: m }));
    // The message is durable once queued; the `accepted` event is information and must not fail
    // the request (the dispatcher's events follow anyway).
    this.deps
      .publishAccepted(events, `accepted:${chunks[0]?.chunkId ?? now}`)
      .catch((err) => this.deps.onPublishError?.(err));
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}

/** Cuts messages into chunks of one gateway each, at most `size` messages per chunk. */
export function toChunks(items: OutboundSms[], size: number): Chunk[] {
  const byGateway = new Map<number, OutboundSms[]>();
  for (const m of items) {
    const l = byGateway.get(m.gatewayId);
    if (l) l.push(m);
    else byGateway.set(m.gatewayId, [m]);
  }
  const chunks: Chunk[] = [];
  for (const [gatewayId, list] of byGateway) {
    for (let i = 0; i < list.length; i += size) {
      chunks.push({ chunkId: newSmsId(), gatewayId, messages: list.slice(i, i + size), attempt: 1 });
    }
  }
  return chunks;
}
