import { rateSms, type PriceTable, type SmsEvent } from '@smsfleet/core';
import type { CdrInsert, Settlement } from '@smsfleet/db';

export interface RatingConfig {
  /** Price of one SMS segment (`smsprice`), a decimal string. */
  smsprice: string;
  /** Duration of a billed SMS in seconds (`smstime`). */
  smstime: number;
  /** Price setup (longest prefix); absent or empty: `smsprice` for every destination. */
  prices?: PriceTable;
  /** User id -> price packet. */
  packets?: ReadonlyMap<number, string>;
}

/**
 * States in which the message reached the provider and is billed as sent: `delivered`, and
 * `unknown` (the submit succeeded and no verification or receipt will tell more).
 */
export const BILLED_STATES: ReadonlySet<string> = new Set(['delivered', 'unknown']);

/**
 * One CDR of type SMS for a final event, and the credit to give back. The credit model (agreed
 * with the API): the API debits the message's price at accept time and carries it as `reserved`.
 * Billed: the CDR cost is what was reserved (the user paid exactly that) and nothing goes back.
 * Not billed: cost 0 and the reservation goes back. Without a reservation (admins, `asendsms`)
 * nothing moves and a billed CDR shows the rated price (price setup, else `smsprice`).
 */
export function settlementFromFinal(e: SmsEvent, rating: RatingConfig): Settlement {
  const billed = BILLED_STATES.has(e.state);
  const reserved = e.msg.reserved;
  let cost = '0';
  if (billed) {
    cost =
      reserved ??
      rateSms(
        rating.prices ?? EMPTY_PRICES,
        {
          to: e.msg.to,
          userId: e.msg.userId,
          packet: rating.packets?.get(e.msg.userId),
          segments: e.msg.segments,
        },
        rating.smsprice,
      ).cost;
  }
  const cdr: CdrInsert = {
    smsid: e.smsid,
    userId: e.msg.userId,
    gatewayId: e.msg.gatewayId,
    caller: e.msg.from,
    callee: e.msg.to,
    segments: e.msg.segments,
    duration: billed ? rating.smstime : 0,
    cost,
    state: e.state,
    disconnectReason: (e.reason ?? e.state).slice(0, 255),
    comment: e.answer ? e.answer.slice(0, 2000) : null,
    providerMsgid: e.providerMessageId ?? null,
    clientIp: e.msg.clientIp,
    acceptedAt: new Date(e.msg.acceptedAt),
    submittedAt: e.submittedAt ? new Date(e.submittedAt) : null,
    finalAt: new Date(e.at),
    reserved: reserved ?? null,
    routeAttempt: e.msg.route?.attempt ?? 1,
  };
  return { cdr, refund: !billed && reserved ? reserved : '0' };
}

const EMPTY_PRICES: PriceTable = {
  byUser: new Map(),
  byPacket: new Map(),
  general: new Map(),
  size: 0,
};

/** The CDR row alone (kept for callers of the first version). */
export function cdrFromFinal(e: SmsEvent, rating: RatingConfig): CdrInsert {
  return settlementFromFinal(e, rating).cdr;
}
