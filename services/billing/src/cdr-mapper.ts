import { multiplyDecimal, type SmsEvent } from '@smsfleet/core';
import type { CdrInsert } from '@smsfleet/db';

export interface RatingConfig {
  /** Price of one SMS segment (`smsprice`), a decimal string. */
  smsprice: string;
  /** Duration of a billed SMS in seconds (`smstime`). */
  smstime: number;
}

/** States in which the message reached the provider and is billed as sent. */
const BILLED_STATES = new Set(['delivered', 'unknown']);

/** One CDR row of type SMS for a final event: duration `smstime` and cost per segment when billed. */
export function cdrFromFinal(e: SmsEvent, rating: RatingConfig): CdrInsert {
  const billed = BILLED_STATES.has(e.state);
  return {
    smsid: e.smsid,
    userId: e.msg.userId,
    gatewayId: e.msg.gatewayId,
    caller: e.msg.from,
    callee: e.msg.to,
    segments: e.msg.segments,
    duration: billed ? rating.smstime : 0,
    cost: billed ? multiplyDecimal(rating.smsprice, e.msg.segments) : '0',
    state: e.state,
    disconnectReason: (e.reason ?? e.state).slice(0, 255),
    comment: e.answer ? e.answer.slice(0, 2000) : null,
    providerMsgid: e.providerMessageId ?? null,
    clientIp: e.msg.clientIp,
    acceptedAt: new Date(e.msg.acceptedAt),
    submittedAt: e.submittedAt ? new Date(e.submittedAt) : null,
    finalAt: new Date(e.at),
  };
}
