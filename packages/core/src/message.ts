/**
 * The message model shared by every service. A message keeps its own `smsid` and state while it
 * travels inside a chunk (the queue's unit of work) and inside event batches.
 */

export const SMS_STATES = [
  'accepted',
  'submitted',
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'unknown',
] as const;
export type SmsState = (typeof SMS_STATES)[number];

export const FINAL_STATES: ReadonlySet<SmsState> = new Set([
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'unknown',
]);

export function isFinalState(state: SmsState): boolean {
  return FINAL_STATES.has(state);
}

export type SmsEncoding = 'GSM7' | 'UCS2';

/** A message accepted by the API and queued for one gateway. */
export interface OutboundSms {
  smsid: string;
  /** tb_users.id of the sender (end user or admin). */
  userId: number;
  /** tb_users.id of the SMS GW user (0 = the global `smsurl`). */
  gatewayId: number;
  from: string;
  to: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  clientIp: string;
  /** Epoch milliseconds. */
  acceptedAt: number;
  /**
   * Credit reserved from the sender at accept time (decimal string; absent = nothing reserved).
   * Billing charges it when the message is billed and gives it back when it is not.
   */
  reserved?: string;
  /**
   * Failover history: gateways already tried (in order) and how many routes this message has
   * taken (1 = its first gateway). Absent until the message fails over for the first time.
   */
  route?: { tried: number[]; attempt: number };
  /** The /v1 batch this message belongs to (progress counters and cancel). */
  batchId?: string;
  /** Per-request status webhook (else the user's `webhook_url`, if any). */
  callbackUrl?: string;
}

/** The queue's unit of work: up to a few hundred messages for one gateway. */
export interface Chunk {
  chunkId: string;
  gatewayId: number;
  messages: OutboundSms[];
  /** Send attempt of these messages (1 for a fresh chunk; retry chunks count up). */
  attempt?: number;
}

/** A gateway transport (HTTP, SMPP, executable): one object built from the gateway's config. */
export interface Transport {
  send(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult>;
  close(): Promise<void>;
}

/** What a transport reports for one message. */
export type SubmitResult =
  | {
      ok: true;
      providerMessageId?: string;
      answer: string;
      latencyMs: number;
      /** The provider will report the final state (SMPP receipt, HTTP delivery callback). */
      awaitReceipt?: boolean;
      /** Message ids of the parts of a multipart message, in part order (receipts come per part). */
      partIds?: string[];
      /** SMS segments the provider accepted (SMPP: parts × recipients; billing counts them). */
      segments?: number;
    }
  | {
      ok: false;
      permanent: boolean;
      reason: string;
      answer?: string;
      latencyMs: number;
      /** The provider asked us to wait this long before retrying (HTTP 429/503 Retry-After). */
      retryAfterMs?: number;
      /**
       * The provider refused to take the message because we send too fast (HTTP 429): it does
       * not have it, so sending it again later is safe and is not a failed attempt.
       */
      throttled?: boolean;
    };

/** One state transition of one message, as carried inside an event batch. */
export interface SmsEvent {
  smsid: string;
  state: SmsState;
  /** Epoch milliseconds of the transition. */
  at: number;
  msg: OutboundSms;
  providerMessageId?: string;
  /** Provider answer or the reason of a failure (never contains secrets). */
  answer?: string;
  reason?: string;
  submittedAt?: number;
  /** On `submitted`: the final state comes later from a receipt or callback. */
  awaitReceipt?: boolean;
  /** On `submitted`: the provider ids of the parts of a multipart message. */
  partIds?: string[];
}

/** One JetStream message may carry the transitions of many messages. */
export interface SmsEventBatch {
  v: 1;
  events: SmsEvent[];
}
