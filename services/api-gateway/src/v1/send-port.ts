import type { ConfigSnapshot } from '@smsfleet/config';
import { addDecimal, type OutboundSms } from '@smsfleet/core';
import type { AcceptPipeline } from '../accept-pipeline.js';
import type { ApiContext } from '../api-context.js';
import { SendService, sendServiceFor, type SentMessage } from '../send-service.js';
import type { V1Principal } from './api-key-auth.js';
import type { Recipient } from './recipients.js';

/** A batch's messages, validated, routed, priced and paid for, not yet queued. */
export interface PreparedBatch {
  messages: OutboundSms[];
  /** Returns the reserved credit (the batch could not be stored). */
  giveBack(): Promise<void>;
}

/** What /v1 needs from the send path. Every call into the SendService is in this file. */
export interface SendPort {
  /** Sends one text to recipients now (POST /v1/messages). */
  send(
    principal: V1Principal,
    req: { to: string[]; text: string; from: string; clientIp: string; cfg: ConfigSnapshot },
  ): Promise<SentMessage[]>;
  /** Checks and pays for a whole batch; the caller queues the messages. */
  prepareBatch(
    principal: V1Principal,
    recipients: Recipient[],
    opts: { batchId: string; clientIp: string; cfg: ConfigSnapshot },
  ): Promise<PreparedBatch>;
  close(): void;
}

/**
 * Collects the messages the SendService hands to "the pipeline" for a batch, by batchId, instead
 * of queuing them: batches queue their own chunks (delayed for scheduleAt, listed for cancel).
 */
class BatchCollector {
  private readonly open = new Map<string, OutboundSms[]>();

  begin(batchId: string): OutboundSms[] {
    const list: OutboundSms[] = [];
    this.open.set(batchId, list);
    return list;
  }

  end(batchId: string): void {
    this.open.delete(batchId);
  }

  accept(m: OutboundSms): Promise<void> {
    return this.acceptMany([m]);
  }

  acceptMany(msgs: OutboundSms[]): Promise<void> {
    const id = msgs[0]?.batchId;
    const list = id === undefined ? undefined : this.open.get(id);
    if (!list) return Promise.reject(new Error('message of no open batch'));
    for (const m of msgs) list.push(m);
    return Promise.resolve();
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }
}

/** Distinct (text, sender) groups of a batch are checked and reserved this many at a time. */
const GROUP_PARALLEL = 4;

/**
 * The SendService behind /v1. Batches reuse all of its rules (rights, numbers, advertisement and
 * signature, segments, routing, rating, one atomic credit reservation) per distinct text and
 * sender; the messages are collected rather than queued so the batch controls its chunks.
 */
export function createSendPort(ctx: ApiContext): SendPort {
  const collector = new BatchCollector();
  const batchSender = new SendService({ ...ctx, pipeline: collector as unknown as AcceptPipeline });
  return {
    async send(principal, req) {
      const r = await sendServiceFor(ctx).send({
        principal,
        recipients: req.to,
        text: req.text,
        from: req.from,
        clientIp: req.clientIp,
        cfg: req.cfg,
      });
      return r.messages;
    },

    async prepareBatch(principal, recipients, opts) {
      const groups = new Map<string, { text: string; from: string; to: string[] }>();
      for (const r of recipients) {
        const k = `${r.from}\u0000${r.text}`;
        const g = groups.get(k);
        if (g) g.to.push(r.to);
        else groups.set(k, { text: r.text, from: r.from, to: [r.to] });
      }
      const messages = collector.begin(opts.batchId);
      let reserved = '0';
      const giveBack = async () => {
        if (reserved !== '0' && principal.userId > 0) await ctx.users.addCredit(principal.userId, reserved);
        reserved = '0';
      };
      const list = [...groups.values()];
      let failure: Error | undefined;
      try {
        let next = 0;
        const worker = async () => {
          while (failure === undefined && next < list.length) {
            const g = list[next++]!;
            try {
              const r = await batchSender.send({
                principal,
                recipients: g.to,
                text: g.text,
                from: g.from,
                clientIp: opts.clientIp,
                batchId: opts.batchId,
                cfg: opts.cfg,
              });
              if (r.reserved) reserved = addDecimal(reserved, r.reserved);
            } catch (err) {
              failure ??= err instanceof Error ? err : new Error('send failed', { cause: err });
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(GROUP_PARALLEL, list.length) }, worker));
      } finally {
        collector.end(opts.batchId);
      }
      if (failure !== undefined) {
        // All or nothing: what earlier groups reserved goes back before the error is answered.
        await giveBack();
        throw failure;
      }
      return { messages, giveBack };
    },

    close() {
      batchSender.close();
    },
  };
}
