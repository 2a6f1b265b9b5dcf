import type { Redis } from 'ioredis';
import { isFinalState, SMS_STATES, type SmsEvent, type SmsState } from '@smsfleet/core';

/** One transition of a message as kept in the status store. */
export interface StatusEntry {
  state: SmsState;
  /** Epoch milliseconds. */
  at: number;
  reason?: string;
  providerMessageId?: string;
}

export interface MessageStatus {
  smsid: string;
  userId: number;
  batchId?: string;
  to?: string;
  /** The final state when known, else the latest transition. */
  state: SmsState;
  final: boolean;
  /** Oldest first. */
  history: StatusEntry[];
}

/** Cumulative counters of a batch; each message counts once per state. */
export interface BatchCounters {
  accepted: number;
  submitted: number;
  delivered: number;
  undelivered: number;
  expired: number;
  rejected: number;
  failed: number;
  unknown: number;
  /** Messages in a final state. */
  final: number;
  /** Messages that left the queue (submitted or final). */
  left: number;
  /** Messages that ended `failed` because their batch was cancelled. */
  cancelled: number;
}

export const CANCELLED_REASON = 'cancelled';

/**
 * Records one transition idempotently. HSETNX on `s:<state>` makes a redelivered event (JetStream
 * redelivery, the same `failed` seen on `sms.failed` and again on `sms.final`) a no-op, so batch
 * counters count each message once per state however often its events arrive.
 *
 * KEYS[1] status hash, KEYS[2] batch counters (optional)
 * ARGV: state, entry JSON, ttl seconds, isFinal, leftQueue, userId, batchId, to, cancelled
 */
const RECORD_LUA = `
local key = KEYS[1]
local bkey = KEYS[2]
if redis.call('HSETNX', key, 's:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSETNX', key, 'user', ARGV[6])
if ARGV[7] ~= '' then redis.call('HSETNX', key, 'batch', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSETNX', key, 'to', ARGV[8]) end
redis.call('EXPIRE', key, ARGV[3])
if bkey then redis.call('HINCRBY', bkey, ARGV[1], 1) end
if ARGV[4] == '1' and redis.call('HSETNX', key, 'final', ARGV[1]) == 1 and bkey then
  redis.call('HINCRBY', bkey, 'final', 1)
  if ARGV[9] == '1' then redis.call('HINCRBY', bkey, 'cancelled', 1) end
end
if ARGV[5] == '1' and redis.call('HSETNX', key, 'left', '1') == 1 and bkey then
  redis.call('HINCRBY', bkey, 'left', 1)
end
if bkey then redis.call('EXPIRE', bkey, ARGV[3]) end
return 1
`;

const COUNTER_FIELDS: readonly (keyof BatchCounters)[] = [
  'accepted',
  'submitted',
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'unknown',
  'final',
  'left',
  'cancelled',
];

type RecordCommand = (numKeys: number, ...args: (string | number)[]) => Promise<number>;

const STATE_SET: ReadonlySet<string> = new Set(SMS_STATES);

/**
 * The message status store in Redis: per smsid a hash of its transitions (kept `ttlSeconds`), per
 * batch a hash of counters. Written by the verifier's status tracker from every `sms.*` event, read
 * by `/v1/messages/{smsid}` and batch progress from any api-gateway replica.
 */
export class MessageStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {
    if (!(redis as unknown as { smsfleetStatusRecord?: unknown }).smsfleetStatusRecord)
      redis.defineCommand('smsfleetStatusRecord', { lua: RECORD_LUA });
  }

  statusKey(smsid: string): string {
    return `${this.prefix}:status:${smsid}`;
  }

  batchKey(batchId: string): string {
    return `${this.prefix}:batch-progress:${batchId}`;
  }

  /**
   * Records a batch of events in one pipeline; events that are not message transitions (receipts,
   * MO messages) are skipped. Returns how many transitions were new.
   */
  async record(events: readonly SmsEvent[]): Promise<number> {
    const pipe = this.redis.pipeline();
    const cmd = (pipe as unknown as { smsfleetStatusRecord: RecordCommand }).smsfleetStatusRecord.bind(pipe);
    let n = 0;
    for (const e of events) {
      if (!e || typeof e.smsid !== 'string' || !STATE_SET.has(e.state) || !e.msg) continue;
      // The accept time is the message's own: its `accepted` event may be published after the
      // dispatcher already submitted it.
      const entry: StatusEntry = {
        state: e.state,
        at: e.state === 'accepted' && e.msg.acceptedAt ? e.msg.acceptedAt : e.at,
      };
      if (e.reason) entry.reason = e.reason.slice(0, 255);
      if (e.providerMessageId) entry.providerMessageId = e.providerMessageId;
      const final = isFinalState(e.state);
      const batchId = e.msg.batchId ?? '';
      const args = [
        e.state,
        JSON.stringify(entry),
        this.ttlSeconds,
        final ? '1' : '0',
        final || e.state === 'submitted' ? '1' : '0',
        String(e.msg.userId),
        batchId,
        e.msg.to ?? '',
        final && e.state === 'failed' && e.reason === CANCELLED_REASON ? '1' : '0',
      ];
      if (batchId) void cmd(2, this.statusKey(e.smsid), this.batchKey(batchId), ...args);
      else void cmd(1, this.statusKey(e.smsid), ...args);
      n++;
    }
    if (n === 0) return 0;
    const results = (await pipe.exec()) ?? [];
    let added = 0;
    for (const [err, v] of results) {
      if (err) throw err;
      if (v === 1) added++;
    }
    return added;
  }

  async get(smsid: string): Promise<MessageStatus | undefined> {
    const h = await this.redis.hgetall(this.statusKey(smsid));
    if (!h.user) return undefined;
    const history: StatusEntry[] = [];
    for (const [field, value] of Object.entries(h)) {
      if (!field.startsWith('s:')) continue;
      try {
        history.push(JSON.parse(value) as StatusEntry);
      } catch {
        // a corrupt entry must not hide the others
      }
    }
    // Lifecycle order first (clocks of different services may disagree by a few ms), then time.
    const rank = (s: SmsState) => (s === 'accepted' ? 0 : s === 'submitted' ? 1 : 2);
    history.sort((a, b) => rank(a.state) - rank(b.state) || a.at - b.at);
    const finalState = h.final as SmsState | undefined;
    const last = history[history.length - 1];
    return {
      smsid,
      userId: Number(h.user),
      ...(h.batch ? { batchId: h.batch } : {}),
      ...(h.to ? { to: h.to } : {}),
      state: finalState ?? last?.state ?? 'accepted',
      final: finalState !== undefined,
      history,
    };
  }

  async batchCounters(batchId: string): Promise<BatchCounters> {
    const h = await this.redis.hgetall(this.batchKey(batchId));
    const out = {} as BatchCounters;
    for (const f of COUNTER_FIELDS) out[f] = Number(h[f] ?? 0);
    return out;
  }
}
