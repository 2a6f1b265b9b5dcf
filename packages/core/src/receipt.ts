import type { SmsState } from './message.js';

/** Fields of an SMPP delivery receipt text (v3.4 Appendix B; vendors vary, so each key alone). */
export interface ReceiptText {
  id?: string;
  stat?: string;
  err?: string;
  submitDate?: string;
  doneDate?: string;
  text?: string;
}

const KEY = (name: string) => new RegExp(`(?:^|\\s)${name}:\\s*([^\\s]*)`, 'i');
const ID_RE = KEY('id');
const STAT_RE = KEY('stat');
const ERR_RE = KEY('err');
const SUBMIT_RE = /submit[ _]date:\s*(\d{10,12})/i;
const DONE_RE = /done[ _]date:\s*(\d{10,12})/i;
const TEXT_RE = /(?:^|\s)text:(.*)$/is;

export function parseReceiptText(text: string): ReceiptText {
  const out: ReceiptText = {};
  const pick = (re: RegExp) => re.exec(text)?.[1];
  const id = pick(ID_RE);
  if (id) out.id = id;
  const stat = pick(STAT_RE);
  if (stat) out.stat = stat.toUpperCase();
  const err = pick(ERR_RE);
  if (err) out.err = err;
  const s = pick(SUBMIT_RE);
  if (s) out.submitDate = s;
  const d = pick(DONE_RE);
  if (d) out.doneDate = d;
  const t = TEXT_RE.exec(text)?.[1];
  if (t !== undefined) out.text = t;
  return out;
}

/** Receipt `stat` words and `message_state` values to our states; undefined = not final yet. */
const STAT_STATE: Record<string, SmsState | undefined> = {
  DELIVRD: 'delivered',
  DELIVERED: 'delivered',
  EXPIRED: 'expired',
  DELETED: 'undelivered',
  UNDELIV: 'undelivered',
  UNDELIVERABLE: 'undelivered',
  REJECTD: 'rejected',
  REJECTED: 'rejected',
  UNKNOWN: 'unknown',
  ACCEPTD: undefined,
  ENROUTE: undefined,
};

const MESSAGE_STATE: Record<number, SmsState | undefined> = {
  1: undefined,
  2: 'delivered',
  3: 'expired',
  4: 'undelivered',
  5: 'undelivered',
  6: undefined,
  7: 'unknown',
  8: 'rejected',
  9: 'undelivered',
};

/** The final state a receipt reports, from the `message_state` TLV if present, else the text. */
export function receiptState(stat: string | undefined, messageState?: number): SmsState | undefined {
  if (messageState !== undefined && messageState in MESSAGE_STATE) return MESSAGE_STATE[messageState];
  if (!stat) return undefined;
  return STAT_STATE[stat.toUpperCase()];
}

function normaliseId(id: string): string {
  return id
    .trim()
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

/**
 * Keys under which a sent message is stored by its provider message id (from submit_sm_resp or an
 * HTTP answer): the id itself (lower case, no leading zeros) and, when it reads as hex, its decimal
 * value — SMSCs that answer hex often put the decimal number in the receipt text.
 */
export function providerIdStoreKeys(id: string): string[] {
  const n = normaliseId(id);
  if (!n) return [];
  const keys = [n];
  if (/^[0-9a-f]{1,16}$/.test(n)) keys.push(`h${BigInt(`0x${n}`).toString(10)}`);
  return keys;
}

/**
 * Keys to look a receipt's id up with, in order: the exact id first, then (when it is decimal) the
 * hex-converted form. An exact match always wins over a converted one.
 */
export function providerIdLookupKeys(id: string): string[] {
  const n = normaliseId(id);
  if (!n) return [];
  const keys = [n];
  if (/^[0-9]{1,20}$/.test(n)) keys.push(`h${BigInt(n).toString(10)}`);
  return keys;
}

/**
 * A delivery report from a provider, as carried on the `sms.receipt` subject: an SMPP deliver_sm
 * receipt (any bind of any replica) or an HTTP delivery callback (`/dlr/{gatewayId}`).
 */
export interface ReceiptEvent {
  gatewayId: number;
  /** The id the provider gave at submit (receipted_message_id TLV, else the text's `id:`). */
  providerMessageId: string;
  /** Receipt `stat` word (DELIVRD, UNDELIV ...) when known. */
  stat?: string;
  /** SMPP `message_state` TLV when present. */
  messageState?: number;
  err?: string;
  /** The raw receipt text or callback body (shortened), kept for inspection. */
  raw?: string;
  receivedAt: number;
  source: 'smpp' | 'http';
}
