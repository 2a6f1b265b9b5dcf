import { createHash } from 'node:crypto';
import { chooseRoute, countSegments, newSmsId, type OutboundSms, type SmsEvent } from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import type { RoutingTables } from '@smsfleet/db';
import type { Chunk } from '@smsfleet/core';

export interface AnswerSenderDeps {
  config(): ConfigSnapshot;
  /** Routing rules and enabled SMS GW users (loaded per answer: commands are rare). */
  routing(): Promise<RoutingTables>;
  addChunks(chunks: Chunk[]): Promise<void>;
  publishAccepted(events: SmsEvent[], msgId: string): Promise<void>;
}

/**
 * SMS answers to command senders go through the normal send path: the inbound service cannot call
 * the api-gateway's SendService in-process, and an HTTP round trip through asendsms would need the
 * server key and make answers fail when the api-gateway is down. So it queues an OutboundSms on
 * the chosen gateway's BullMQ queue exactly as the api-gateway does (same `chooseRoute` rule from
 * core, an `accepted` event), and the dispatcher, verifier and billing take it from there.
 */
export class AnswerSender {
  constructor(private readonly d: AnswerSenderDeps) {}

  /** Returns the smsid, or undefined when no gateway can take the answer (logged by the caller). */
  async send(a: {
    to: string;
    from: string;
    text: string;
    userId: number;
    moId: string;
  }): Promise<string | undefined> {
    const cfg = this.d.config();
    if (!cfg.enablesms) return undefined;
    const t = await this.d.routing();
    const gatewayId = chooseRoute(
      { smsrouting: cfg.smsrouting, hasGlobalGateway: Boolean(cfg.smsurl), gateways: t.gateways },
      t.routes,
      { to: a.to, from: a.from, userId: a.userId, userGroup: t.packets.get(a.userId) },
      Math.random,
    );
    if (gatewayId === undefined) return undefined;
    const count = countSegments(a.text);
    const msg: OutboundSms = {
      smsid: newSmsId(),
      userId: a.userId,
      gatewayId,
      from: a.from,
      to: a.to,
      text: a.text,
      encoding: count.encoding,
      segments: count.segments,
      clientIp: '',
      acceptedAt: Date.now(),
    };
    // The chunk id is the job id: answering the same SMS again while the job waits adds nothing.
    const chunkId = `answer-${createHash('sha1').update(a.moId).digest('hex').slice(0, 32)}`;
    await this.d.addChunks([{ chunkId, gatewayId, messages: [msg], attempt: 1 }]);
    await this.d
      .publishAccepted(
        [{ smsid: msg.smsid, state: 'accepted', at: msg.acceptedAt, msg }],
        `accepted:${chunkId}`,
      )
      .catch(() => undefined);
    return msg.smsid;
  }
}
