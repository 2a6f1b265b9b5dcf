import type { Redis } from 'ioredis';
import {
  aggregatePartStates,
  providerIdLookupKeys,
  providerIdStoreKeys,
  type ReceiptEvent,
  type SmsEvent,
  type SmsState,
} from '@smsfleet/core';

export interface ReceiptStoreOptions {
  redis: Redis;
  prefix: string;
  /** How long a submitted message waits for its receipts before it ends `unknown`. */
  maxWaitMs: number;
  /** Lifetime of the correlation keys (longer than maxWaitMs). */
  awaitTtlSeconds: number;
  /** How long a receipt without a known message is held for a late submit_sm_resp. */
  earlyTtlSeconds: number;
  /** Unmatched receipts kept for inspection. */
  unmatchedKeep?: number;
}

export type ReceiptOutcome =
  | { kind: 'final'; event: SmsEvent }
  | { kind: 'part'; smsid: string }
  | { kind: 'nonfinal'; smsid: string }
  | { kind: 'held' };

/**
 * Correlates receipts with sent messages through the provider message id, in Redis so that a
 * receipt arriving at any replica finds the message submitted through any other.
 *
 * Keys (all with TTLs): `rcpt:{gw}:{idKey}` → smsid for every id form of every part;
 * `await:{smsid}` hash: the submitted event and each part's state; `early:{gw}:{idKey}` → a receipt
 * that came before its submit answer; `rcpt-unmatched` a capped list for inspection.
 */
/**
 * KEYS[1] the deadline zset. ARGV: now, lease-until, limit. Takes the due members and moves their
 * deadline to lease-until in one step, so concurrent sweepers never claim the same message.
 */
const CLAIM_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, smsid in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], smsid) end
return due
`;

export class ReceiptStore {
  constructor(private readonly o: ReceiptStoreOptions) {}

  private k(...parts: (string | number)[]): string {
    return `${this.o.prefix}:${parts.join(':')}`;
  }

  /**
   * Remembers submitted messages that wait for receipts, in one round trip. Returns receipts that
   * arrived before them (held as early receipts), to be applied now.
   */
  async remember(events: SmsEvent[]): Promise<ReceiptEvent[]> {
    if (events.length === 0) return [];
    const ttl = this.o.awaitTtlSeconds;
    const m = this.o.redis.multi();
    const earlyKeys: string[] = [];
    for (const e of events) {
      const ids = e.partIds?.length ? e.partIds : e.providerMessageId ? [e.providerMessageId] : [];
      const gw = e.msg.gatewayId;
      const awaitKey = this.k('await', e.smsid);
      m.hset(awaitKey, 'ev', JSON.stringify(e), 'parts', String(Math.max(1, ids.length)));
      m.expire(awaitKey, ttl);
      m.zadd(this.k('await-deadline'), Date.now() + this.o.maxWaitMs, e.smsid);
      ids.forEach((id, i) => {
        for (const key of providerIdStoreKeys(id)) {
          m.set(this.k('rcpt', gw, key), `${e.smsid}|${i}`, 'EX', ttl);
          earlyKeys.push(this.k('early', gw, key));
        }
      });
    }
    if (earlyKeys.length) m.mget(...earlyKeys);
    const res = (await m.exec()) ?? [];
    const held = earlyKeys.length ? ((res[res.length - 1]?.[1] ?? []) as (string | null)[]) : [];
    const early: ReceiptEvent[] = [];
    const seen = new Set<string>();
    const found: string[] = [];
    held.forEach((value, i) => {
      if (value === null) return;
      found.push(earlyKeys[i]!);
      if (seen.has(value)) return;
      seen.add(value);
      early.push(JSON.parse(value) as ReceiptEvent);
    });
    if (found.length) await this.o.redis.del(...found);
    return early;
  }

  /**
   * Applies receipts (one lookup round trip, one update round trip for the batch). Returns what
   * each one did, in order; several receipts of one message in a batch are applied in order.
   */
  async applyAll(
    list: { r: ReceiptEvent; state: SmsState | undefined }[],
    recheck = false,
  ): Promise<ReceiptOutcome[]> {
    if (list.length === 0) return [];
    const lookups = list.map(({ r }) =>
      providerIdLookupKeys(r.providerMessageId).map((key) => this.k('rcpt', r.gatewayId, key)),
    );
    const flat = lookups.flat();
    const got = flat.length ? await this.o.redis.mget(...flat) : [];
    let pos = 0;
    const hits: (string | null)[] = lookups.map((keys) => {
      // Exact form first, converted forms after (the order of the lookup keys).
      let hit: string | null = null;
      for (let i = 0; i < keys.length; i++) hit ??= got[pos + i] ?? null;
      pos += keys.length;
      return hit;
    });
    const m = this.o.redis.multi();
    let queued = 0; // commands queued so far (the pipeline's own length counts MULTI too)
    const plan: (
      { kind: 'held' } | { kind: 'nonfinal'; smsid: string } | { kind: 'update'; smsid: string }
    )[] = [];
    list.forEach(({ r, state }, i) => {
      const hit = hits[i];
      if (!hit) {
        const raw = JSON.stringify(r);
        for (const key of providerIdLookupKeys(r.providerMessageId)) {
          m.set(this.k('early', r.gatewayId, key), raw, 'EX', this.o.earlyTtlSeconds);
          queued++;
        }
        m.lpush(this.k('rcpt-unmatched'), raw).ltrim(
          this.k('rcpt-unmatched'),
          0,
          (this.o.unmatchedKeep ?? 1000) - 1,
        );
        queued += 2;
        plan.push({ kind: 'held' });
        return;
      }
      const sep = hit.lastIndexOf('|');
      const smsid = hit.slice(0, sep);
      if (!state) {
        plan.push({ kind: 'nonfinal', smsid });
        return;
      }
      const awaitKey = this.k('await', smsid);
      m.hset(awaitKey, `p${hit.slice(sep + 1)}`, state);
      queued++;
      plan.push({ kind: 'update', smsid });
    });
    // Read each touched message once, after all its parts were written.
    const touched = [...new Set(plan.flatMap((p) => (p.kind === 'update' ? [p.smsid] : [])))];
    const base = queued;
    for (const smsid of touched) m.hgetall(this.k('await', smsid));
    const res = (await m.exec()) ?? [];
    const states = new Map<string, Record<string, string>>();
    touched.forEach((smsid, i) => states.set(smsid, (res[base + i]?.[1] ?? {}) as Record<string, string>));
    const finalised = new Set<string>();
    const outcomes: ReceiptOutcome[] = plan.map((p, i) => {
      if (p.kind !== 'update') return p;
      const h = states.get(p.smsid) ?? {};
      if (!h.ev || finalised.has(p.smsid)) return { kind: 'part', smsid: p.smsid } as const;
      const parts = Number(h.parts ?? '1');
      const partStates: (SmsState | undefined)[] = [];
      for (let k = 0; k < parts; k++) partStates.push(h[`p${k}`] as SmsState | undefined);
      const final = aggregatePartStates(partStates);
      if (!final) return { kind: 'part', smsid: p.smsid } as const;
      finalised.add(p.smsid);
      const r = list[i]!.r;
      const submitted = JSON.parse(h.ev) as SmsEvent;
      return {
        kind: 'final',
        event: {
          ...submitted,
          state: final,
          at: r.receivedAt,
          reason:
            parts > 1
              ? `parts: ${partStates.join(',')}`
              : r.err
                ? `${r.stat ?? final} err:${r.err}`
                : (r.stat ?? final),
          answer: r.raw ?? submitted.answer,
        },
      } as const;
    });
    // A submit remembered between our lookup and our hold would miss the held receipt (its
    // `remember` read the early keys before we wrote them). Both sides write first and read
    // after, so looking again now is enough for one of them to see the other.
    const heldIdx = outcomes.flatMap((o, i) => (o.kind === 'held' ? [i] : []));
    if (heldIdx.length > 0 && !recheck) {
      const keysOf = heldIdx.map((i) => {
        const r = list[i]!.r;
        return providerIdLookupKeys(r.providerMessageId).map((key) => this.k('rcpt', r.gatewayId, key));
      });
      const again = await this.o.redis.mget(...keysOf.flat());
      let at = 0;
      const found = heldIdx.filter((_, j) => {
        const n = keysOf[j]!.length;
        const hit = again.slice(at, at + n).some((v) => v !== null);
        at += n;
        return hit;
      });
      if (found.length) {
        const m2 = this.o.redis.multi();
        for (const i of found) {
          const r = list[i]!.r;
          for (const key of providerIdLookupKeys(r.providerMessageId))
            m2.del(this.k('early', r.gatewayId, key));
        }
        await m2.exec();
        const second = await this.applyAll(
          found.map((i) => list[i]!),
          true,
        );
        found.forEach((i, j) => (outcomes[i] = second[j]!));
      }
    }
    return outcomes;
  }

  /**
   * Claims messages whose wait is over and returns their submitted events. A claim is a lease: the
   * deadline moves `leaseMs` ahead (atomically, so one replica gets each message), and only
   * `forget()` after the final state was published removes it. A sweep that fails to publish (NATS
   * down, the process killed) leaves the messages to be claimed again when the lease ends.
   */
  async claimExpired(limit = 500, leaseMs = 30_000): Promise<SmsEvent[]> {
    const key = this.k('await-deadline');
    const now = Date.now();
    const due = (await this.o.redis.eval(CLAIM_LUA, 1, key, now, now + leaseMs, limit)) as string[];
    if (due.length === 0) return [];
    const evs = await this.o.redis
      .pipeline(due.map((smsid) => ['hget', this.k('await', smsid), 'ev']))
      .exec();
    const out: SmsEvent[] = [];
    const gone: string[] = [];
    due.forEach((smsid, i) => {
      const ev = evs?.[i]?.[1];
      if (typeof ev === 'string') out.push(JSON.parse(ev) as SmsEvent);
      else gone.push(smsid); // finalised meanwhile (or expired): nothing left to wait for
    });
    if (gone.length) await this.o.redis.zrem(key, ...gone);
    return out;
  }

  /** Forgets finalised messages (their id keys expire on their own). */
  async forget(smsids: string[]): Promise<void> {
    if (smsids.length === 0) return;
    const m = this.o.redis.multi();
    for (const smsid of smsids) m.del(this.k('await', smsid)).zrem(this.k('await-deadline'), smsid);
    await m.exec();
  }

  async unmatched(limit = 100): Promise<ReceiptEvent[]> {
    const list = await this.o.redis.lrange(this.k('rcpt-unmatched'), 0, limit - 1);
    return list.map((s) => JSON.parse(s) as ReceiptEvent);
  }
}
