/**
 * SendService: the one path every outbound SMS takes, whatever the entry point (the Mizu entries
 * `sendsms`, `asendsms`, ... now; `/v1` and the web portal later). Entries authenticate and parse
 * their own request format, then call `send()`; this module owns the rules:
 *
 *   1. `enablesms=false` refuses every send (code DISABLED).
 *   2. Rights: end users (principal.admin false) must be enabled and allowed to send SMS (from the
 *      user cache). Admins and the `authkey` holder skip rights and are never charged.
 *   3. Numbers are normalised (numbers.ts); with `usesmsprefixsp=true` every target number goes
 *      through the stored procedure `v_dialplansms(tonum, fromid, fromnum, clientip)` and its single
 *      result replaces it. That is one DB query per recipient: acceptable only because it is opt-in
 *      (the default pass-through procedure comes from migration 0101; with the option off, no query).
 *   4. Text: with `smsadv=true` `smsadvprefix` + a random enabled advertisement (table
 *      `advertisements`, cached in memory, reloaded every 10 s while smsadv is on) + a newline go
 *      before the text, and the sender earns `smsadvvalue` per message carrying one; then
 *      `smssignature` is appended (after a newline unless it starts with white space).
 *   5. Segments (core `countSegments`, GSM 03.38 or UCS2), routing (`ctx.chooseGateway`) and rating
 *      (`ctx.rate`: price of the whole message, decimal string) per recipient.
 *   6. Credit (charged principals only): the sum of the prices is reserved with ONE atomic statement
 *      for the whole request, `credit = credit - total WHERE credit - total >= credit_limit`; no row
 *      updated → NO_CREDIT and nothing is queued. Each message carries its own price in `reserved`;
 *      billing keeps it for billed messages and gives it back for the others. If queueing fails after
 *      the reservation, the credit is given back before the error is thrown. The credit check never
 *      reads the user cache. The reservation writes a credit hold (the request's messages) in the
 *      same transaction, deleted once they are queued; a hold left by a crash in between is rolled
 *      forward by the hold recovery (credit-hold-recovery.ts), so reserved credit never vanishes.
 *      Concurrent requests share that transaction and the delete (group commit,
 *      credit-hold-batcher.ts): one transaction per flush, not per request.
 *   7. `ctx.pipeline.accept/acceptMany` makes the messages durable (BullMQ), then, depending on
 *      `wait`, the call returns at once (`accepted`), after the provider's submit answer
 *      (`submitted`, Mizu's smsthread=0) or after the final state (`final`, the sync entries), each
 *      bounded by `waitTimeoutMs` (default: config key `smssynctimeoutms`, 30000 ms).
 *
 * Waiting uses ONE core-NATS subscription per process on `sms.final`, `sms.submitted` and
 * `sms.failed` (JetStream publishes are ordinary NATS messages on their subjects) and a Map of
 * waiters by smsid. The subscription exists only while someone waits (plus a linger), so the async
 * hot path never pays for parsing every final event.
 *
 * Get the per-process instance with `sendServiceFor(ctx)`.
 *
 * ```ts
 * const result = await sendServiceFor(ctx).send({
 *   principal,                       // from authentication: { userId, name, admin }
 *   recipients: ['+36201234567'],    // raw; normalised here
 *   text: 'Hello',
 *   from: '1000',
 *   clientIp: '10.0.0.1',
 *   wait: 'final',                   // optional: 'accepted' (default) | 'submitted' | 'final'
 *   batchId: 'b-1',                  // optional, copied onto every OutboundSms
 * });
 * // result.messages[i] = { smsid, to, segments, encoding, gatewayId, price?, status? }
 * //   status (only when waiting): { state, ok, reason? }; a failed or timed-out wait is a status,
 * //   not an error (the message was accepted and goes on).
 * // result.reserved: total reserved (charged principals); result.adCredit: advertisement credit
 * //   given (undo both with ctx.users.addCredit if you drop the messages yourself).
 * // throws SendError { code: 'DISABLED' | 'NOT_ALLOWED' | 'BAD_REQUEST' | 'MISSING_NUMBER' |
 * //                           'NO_CREDIT' | 'NO_GATEWAY' | 'UNAVAILABLE', message }: nothing
 * //   was queued and no credit moved.
 * ```
 */
import type { ConfigSnapshot } from '@smsfleet/config';
import {
  MAX_SEGMENTS,
  countSegments,
  formatDecimal,
  isDecimal,
  newSmsId,
  parseDecimal,
  type OutboundSms,
  type SmsEncoding,
  type SmsEvent,
  type SmsState,
} from '@smsfleet/core';
import { AdvertisementsRepo, type Advertisement } from '@smsfleet/db';
import type { ApiContext } from './api-context.js';
import type { Principal } from './auth.js';
import { CreditHoldBatcher } from './credit-hold-batcher.js';
import { normaliseNumber, normaliseSender } from './numbers.js';

export type { Principal } from './auth.js';

/** At most this many segments per message (GSM concatenation limit, from core). */
export { MAX_SEGMENTS };
/** Hard cap of recipients per `send()` call (entries apply their own, lower limits). */
export const MAX_SEND_RECIPIENTS = 100_000;

/** When `send()` returns: on enqueue, on the provider's submit answer, or on the final state. */
export type SendWait = 'accepted' | 'submitted' | 'final';

export interface SendRequest {
  /** Who sends; authentication is the entry's job. */
  principal: Principal;
  /** Raw target numbers, normalised here. */
  recipients: string[];
  text: string;
  /** Sender number or alphanumeric id ('' = gateway default). */
  from?: string;
  clientIp?: string;
  wait?: SendWait;
  /** Default: config `smssynctimeoutms`. */
  waitTimeoutMs?: number;
  /** Copied onto every message (the /v1 batch). */
  batchId?: string;
  /** Config snapshot to apply (default: the current one). Pass the request's for consistency. */
  cfg?: ConfigSnapshot;
}

/** The outcome of a wait for one message. `ok`: delivered, unknown (after submit) or submitted. */
export interface SendStatus {
  state: SmsState | 'timeout';
  ok: boolean;
  reason?: string;
}

export interface SentMessage {
  smsid: string;
  /** The number sent to, after normalisation and rewriting. */
  to: string;
  segments: number;
  encoding: SmsEncoding;
  gatewayId: number;
  /** Credit reserved for this message (charged principals only). */
  price?: string;
  /** Set when the request waited (`wait` other than 'accepted'). */
  status?: SendStatus;
}

export interface SendResult {
  messages: SentMessage[];
  /** Total credit reserved (charged principals only). */
  reserved?: string;
  /** Credit given to the sender for advertisements in these messages (`smsadvvalue` each). */
  adCredit?: string;
}

export type SendErrorCode =
  'DISABLED' | 'NOT_ALLOWED' | 'BAD_REQUEST' | 'MISSING_NUMBER' | 'NO_CREDIT' | 'NO_GATEWAY' | 'UNAVAILABLE';

/** A refused send: nothing was queued and no credit moved. */
export class SendError extends Error {
  constructor(
    readonly code: SendErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

// ---------------------------------------------------------------------------------------------

type NatsSub = ReturnType<ApiContext['bus']['nc']['subscribe']>;

interface Waiter {
  mode: 'submitted' | 'final';
  resolve(s: SendStatus): void;
}

const decoder = new TextDecoder();
const OK_FINAL: ReadonlySet<string> = new Set(['delivered', 'unknown']);

/**
 * Waiters by smsid, resolved from core-NATS subscriptions on the state subjects. Subscribes on the
 * first waiter (and waits for the server to confirm, so no event can slip by) and unsubscribes
 * `lingerMs` after the last one.
 */
export class StatusWaiters {
  private readonly waiters = new Map<string, Waiter>();
  private subs: NatsSub[] | undefined;
  private subscribing: Promise<void> | undefined;
  private linger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly bus: ApiContext['bus'],
    private readonly lingerMs = 30_000,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Registers waiters for `smsids` (before they are queued, so no event is missed) and returns
   * the promise of their statuses (resolves at the latest after `timeoutMs`) and a cancel.
   */
  async watch(
    smsids: string[],
    mode: 'submitted' | 'final',
    timeoutMs: number,
  ): Promise<{ done: Promise<Map<string, SendStatus>>; cancel(): void }> {
    await this.ensureSubscribed();
    const out = new Map<string, SendStatus>();
    let finish!: () => void;
    const done = new Promise<Map<string, SendStatus>>((resolve) => {
      finish = () => resolve(out);
    });
    let left = smsids.length;
    const timer = setTimeout(() => {
      for (const id of smsids) {
        if (out.has(id)) continue;
        this.waiters.delete(id);
        out.set(id, { state: 'timeout', ok: false, reason: 'timeout' });
      }
      this.afterRemove();
      finish();
    }, timeoutMs);
    for (const id of smsids) {
      this.waiters.set(id, {
        mode,
        resolve: (s) => {
          if (out.has(id)) return;
          out.set(id, s);
          if (--left === 0) {
            clearTimeout(timer);
            this.afterRemove();
            finish();
          }
        },
      });
    }
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    return {
      done,
      cancel: () => {
        clearTimeout(timer);
        for (const id of smsids) this.waiters.delete(id);
        this.afterRemove();
        finish();
      },
    };
  }

  private ensureSubscribed(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('StatusWaiters closed'));
    if (this.subs) return Promise.resolve();
    this.subscribing ??= (async () => {
      const subs: NatsSub[] = [];
      for (const subject of ['final', 'submitted', 'failed'] as const) {
        subs.push(
          this.bus.nc.subscribe(this.bus.subject(subject), {
            callback: (err, msg) => {
              if (!err) this.onBatch(subject, msg.data);
            },
          }),
        );
      }
      // The server has the subscriptions once this round trip returns.
      await this.bus.nc.flush();
      this.subs = subs;
    })().finally(() => {
      this.subscribing = undefined;
    });
    return this.subscribing;
  }

  private onBatch(subject: 'final' | 'submitted' | 'failed', data: Uint8Array): void {
    if (this.waiters.size === 0) return;
    let events: SmsEvent[];
    try {
      events = (JSON.parse(decoder.decode(data)) as { events: SmsEvent[] }).events;
    } catch {
      return;
    }
    if (!Array.isArray(events)) return;
    for (const e of events) {
      const w = this.waiters.get(e.smsid);
      if (!w) continue;
      let status: SendStatus | undefined;
      if (subject === 'final') {
        // The verifier finalises a submitted message as `unknown` when nothing more will be learnt:
        // the provider took it, so that is a success.
        status = { state: e.state, ok: OK_FINAL.has(e.state), reason: e.reason ?? e.answer };
      } else if (subject === 'submitted' && w.mode === 'submitted') {
        status = { state: 'submitted', ok: true };
      } else if (subject === 'failed') {
        status = { state: 'failed', ok: false, reason: e.reason ?? e.answer };
      }
      if (status) {
        this.waiters.delete(e.smsid);
        w.resolve(status);
      }
    }
  }

  private afterRemove(): void {
    if (this.waiters.size > 0 || !this.subs || this.linger || this.closed) return;
    this.linger = setTimeout(() => {
      this.linger = undefined;
      if (this.waiters.size === 0 && this.subs) {
        for (const s of this.subs) s.unsubscribe();
        this.subs = undefined;
      }
    }, this.lingerMs);
    this.linger.unref();
  }

  close(): void {
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    for (const s of this.subs ?? []) s.unsubscribe();
    this.subs = undefined;
    for (const [id, w] of this.waiters) {
      this.waiters.delete(id);
      w.resolve({ state: 'timeout', ok: false, reason: 'the service is shutting down' });
    }
  }
}

// ---------------------------------------------------------------------------------------------

const AD_REFRESH_MS = 10_000;

/** The enabled advertisements, in memory; reloaded at most every 10 s while `smsadv` is on. */
class AdvertCache {
  private list: Advertisement[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly repo: AdvertisementsRepo,
    private readonly onError: (err: unknown) => void,
  ) {}

  invalidate(): void {
    this.loadedAt = 0;
  }

  private reload(): Promise<void> {
    this.loading ??= this.repo
      .listEnabled()
      .then((l) => {
        this.list = l;
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** A random advertisement weighted by `weight`, or undefined when there is none. */
  async pick(): Promise<Advertisement | undefined> {
    if (this.loadedAt === 0) await this.reload();
    else if (Date.now() - this.loadedAt > AD_REFRESH_MS) void this.reload().catch(this.onError);
    let sum = 0;
    for (const a of this.list) sum += a.weight;
    if (sum <= 0) return undefined;
    let r = Math.random() * sum;
    for (const a of this.list) {
      r -= a.weight;
      if (r < 0) return a;
    }
    return this.list[this.list.length - 1];
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The single value a `CALL` returned (mysql2 via knex.raw: [[rows, header], fields]) as text;
 * undefined for no row or NULL.
 */
function firstCallValue(res: unknown): string | undefined {
  const sets = (res as unknown[])[0];
  if (!Array.isArray(sets)) return undefined;
  const rows = Array.isArray(sets[0]) ? (sets[0] as unknown[]) : sets;
  const row: unknown = rows[0];
  if (!row || typeof row !== 'object') return undefined;
  const v = Object.values(row as Record<string, unknown>)[0];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

export class SendService {
  readonly waiters: StatusWaiters;
  private readonly ads: AdvertCache;
  private readonly holds: CreditHoldBatcher;

  constructor(private readonly ctx: ApiContext) {
    this.waiters = new StatusWaiters(ctx.bus);
    this.holds = new CreditHoldBatcher(ctx.db);
    this.ads = new AdvertCache(new AdvertisementsRepo(ctx.db), (err) =>
      ctx.log.warn({ err: (err as Error).message }, 'advertisement reload failed'),
    );
  }

  /** Forget cached advertisements (after an operator changed them). */
  invalidateAdvertisements(): void {
    this.ads.invalidate();
  }

  close(): void {
    this.waiters.close();
    void this.holds.drain();
  }

  async send(req: SendRequest): Promise<SendResult> {
    const { ctx } = this;
    const cfg = req.cfg ?? ctx.config.current();
    const { principal } = req;
    if (!cfg.enablesms) throw new SendError('DISABLED', 'SMS is disabled on this server (enablesms=false)');

    // Rights (end users). The cache is fine for flags; credit is checked by the UPDATE below.
    if (!principal.admin) {
      const user = await ctx.userCache.get(principal.name);
      if (!user || user.id !== principal.userId || !user.enabled)
        throw new SendError('NOT_ALLOWED', 'user is disabled');
      if (!user.smsAllowed) throw new SendError('NOT_ALLOWED', 'user is not allowed to send SMS');
    }
    const charged = !principal.admin && principal.userId > 0;

    // Numbers.
    const raw = req.recipients.map((r) => r.trim()).filter((r) => r !== '');
    if (raw.length === 0) throw new SendError('MISSING_NUMBER', 'missing target number (bnum or to)');
    if (raw.length > MAX_SEND_RECIPIENTS)
      throw new SendError('BAD_REQUEST', `too many recipients (at most ${MAX_SEND_RECIPIENTS})`);
    let numbers: string[] = [];
    for (const r of raw) {
      const n = normaliseNumber(r);
      if (!n) throw new SendError('BAD_REQUEST', `invalid target number: ${r.slice(0, 32)}`);
      numbers.push(n);
    }
    const from = normaliseSender(req.from ?? '');
    if (from === undefined) throw new SendError('BAD_REQUEST', 'invalid sender (anum or from)');
    if (req.text.trim() === '') throw new SendError('BAD_REQUEST', 'empty message');
    const clientIp = req.clientIp ?? '';

    // Text: advertisement before, signature after.
    let text = req.text;
    let adBonus = 0n;
    if (cfg.smsadv) {
      const ad = await this.ads.pick().catch((err: Error) => {
        ctx.log.warn({ err: err.message }, 'advertisements unavailable');
        return undefined;
      });
      if (ad) {
        text = `${cfg.smsadvprefix}${ad.text}\n${text}`;
        adBonus = parseDecimal(cfg.smsadvvalue) * BigInt(numbers.length);
      }
    }
    if (cfg.smssignature)
      text = /^\s/.test(cfg.smssignature) ? text + cfg.smssignature : `${text}\n${cfg.smssignature}`;
    const count = countSegments(text);
    if (count.segments > MAX_SEGMENTS)
      throw new SendError(
        'BAD_REQUEST',
        `message too long (${count.segments} segments, at most ${MAX_SEGMENTS})`,
      );

    // Number rewriting by the operator's stored procedure (opt-in: one query per recipient).
    if (cfg.usesmsprefixsp) numbers = await this.rewrite(numbers, principal.userId, from, clientIp);

    // Routing and rating.
    const acceptedAt = Date.now();
    let total = 0n;
    const msgs: OutboundSms[] = numbers.map((to) => {
      const gw = ctx.chooseGateway(cfg, { to, from, userId: principal.userId });
      if (!gw)
        throw new SendError('NO_GATEWAY', 'no SMS gateway configured (set smsurl or add an SMS GW user)');
      const m: OutboundSms = {
        smsid: newSmsId(),
        userId: principal.userId,
        gatewayId: gw.id,
        from,
        to,
        text,
        encoding: count.encoding,
        segments: count.segments,
        clientIp,
        acceptedAt,
      };
      if (req.batchId !== undefined) m.batchId = req.batchId;
      if (charged) {
        const price = ctx.rate(cfg, { to, userId: principal.userId, segments: count.segments });
        if (!isDecimal(price)) throw new Error(`rating returned a non-decimal price for ${to}`);
        const units = parseDecimal(price);
        total += units;
        m.reserved = formatDecimal(units);
      }
      return m;
    });

    // Credit: one atomic statement for the whole request, with a hold (credit-holds-repo.ts) that
    // carries the messages until they are queued: a crash in between is rolled forward.
    const totalText = formatDecimal(total);
    const bonusText = formatDecimal(adBonus);
    const holdToken = charged ? msgs[0]!.smsid : undefined;
    if (holdToken !== undefined) {
      const reserved = await this.holds.reserve({
        token: holdToken,
        userId: principal.userId,
        total: totalText,
        bonus: bonusText,
        messages: msgs,
      });
      if (!reserved)
        throw new SendError(
          'NO_CREDIT',
          `not enough credit (${msgs.length > 1 ? `${msgs.length} messages ` : ''}cost ${totalText})`,
        );
    } else if (adBonus > 0n && principal.userId > 0) {
      await ctx.users.addCredit(principal.userId, bonusText);
    }

    const wait = req.wait ?? 'accepted';
    const ids = msgs.map((m) => m.smsid);
    const watch =
      wait === 'accepted'
        ? undefined
        : await this.waiters
            .watch(ids, wait, req.waitTimeoutMs ?? cfg.smssynctimeoutms)
            .catch(async (err: Error) => {
              await this.giveBack(principal.userId, charged, total, adBonus, holdToken);
              ctx.log.error({ err: err.message }, 'status subscription failed');
              throw new SendError('UNAVAILABLE', 'the message could not be queued, try again');
            });
    try {
      await (msgs.length === 1 ? ctx.pipeline.accept(msgs[0]!) : ctx.pipeline.acceptMany(msgs));
    } catch (err) {
      watch?.cancel();
      ctx.log.error({ err: (err as Error).message }, 'enqueue failed');
      await this.giveBack(principal.userId, charged, total, adBonus, holdToken);
      throw new SendError('UNAVAILABLE', 'the message could not be queued, try again');
    }
    // Queued: the hold is done. If this delete fails the hold is rolled forward later, which
    // queues the messages again (same smsids: billing still writes one CDR each).
    if (holdToken !== undefined)
      await this.holds
        .release(holdToken)
        .catch((err: Error) =>
          ctx.log.warn({ err: err.message, token: holdToken }, 'credit hold not released'),
        );
    const statuses = watch ? await watch.done : undefined;
    return {
      messages: msgs.map((m) => {
        const s: SentMessage = {
          smsid: m.smsid,
          to: m.to,
          segments: m.segments,
          encoding: m.encoding,
          gatewayId: m.gatewayId,
        };
        if (m.reserved !== undefined) s.price = m.reserved;
        const st = statuses?.get(m.smsid);
        if (st) s.status = st;
        return s;
      }),
      ...(charged ? { reserved: totalText } : {}),
      ...(adBonus > 0n && principal.userId > 0 ? { adCredit: bonusText } : {}),
    };
  }

  /** Compensates a reservation (and advertisement bonus) when queueing failed. */
  private async giveBack(
    userId: number,
    charged: boolean,
    total: bigint,
    bonus: bigint,
    holdToken?: string,
  ): Promise<void> {
    const back = (charged ? total : 0n) - bonus;
    if (userId <= 0) return;
    try {
      if (holdToken !== undefined) await this.holds.cancel(holdToken, userId, formatDecimal(back));
      else if (back !== 0n) await this.ctx.users.addCredit(userId, formatDecimal(back));
    } catch (err) {
      // The credit stays reserved with nothing queued: loud, so an operator can correct it.
      this.ctx.log.error(
        { err: (err as Error).message, userId, amount: formatDecimal(back) },
        'credit give-back failed after enqueue failure',
      );
    }
  }

  private async rewrite(
    numbers: string[],
    fromId: number,
    from: string,
    clientIp: string,
  ): Promise<string[]> {
    const out: string[] = new Array<string>(numbers.length);
    // A few at a time: the pool is small and other requests need it too.
    const parallel = 4;
    for (let i = 0; i < numbers.length; i += parallel) {
      await Promise.all(
        numbers.slice(i, i + parallel).map(async (to, k) => {
          let value: string | undefined;
          try {
            value = firstCallValue(
              await this.ctx.db.raw('CALL v_dialplansms(?, ?, ?, ?)', [to, fromId, from, clientIp]),
            );
          } catch (err) {
            this.ctx.log.error({ err: (err as Error).message }, 'v_dialplansms failed');
            throw new SendError('UNAVAILABLE', 'number rewriting (v_dialplansms) failed');
          }
          // No row or NULL: the procedure has nothing to say about this number.
          if (value === undefined) {
            out[i + k] = to;
            return;
          }
          const n = normaliseNumber(value);
          if (!n)
            throw new SendError(
              'BAD_REQUEST',
              `invalid target number after rewriting: ${value.slice(0, 32)}`,
            );
          out[i + k] = n;
        }),
      );
    }
    return out;
  }
}

const instances = new WeakMap<ApiContext, SendService>();

/** The process's SendService for this api-gateway context (created on first use, closed with it). */
export function sendServiceFor(ctx: ApiContext): SendService {
  let s = instances.get(ctx);
  if (!s) {
    const created = new SendService(ctx);
    s = created;
    instances.set(ctx, created);
    ctx.onClose('send-service', () => created.close());
    const unsub = ctx.bus.onNotify('advertisements', () => created.invalidateAdvertisements());
    ctx.onClose('send-service-ads', unsub);
  }
  return s;
}
