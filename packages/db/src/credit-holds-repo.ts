import { formatDecimal, parseDecimal } from '@smsfleet/core';
import type { Knex } from 'knex';

/** One request's reservation: `total` to debit, `bonus` (advertisement credit) to give at once. */
export interface HoldRequest {
  token: string;
  userId: number;
  total: string;
  bonus: string;
  messages: unknown[];
}

/** A request whose credit was reserved and whose messages may not have reached the queue. */
export interface CreditHold<M> {
  token: string;
  userId: number;
  amount: string;
  messages: M[];
  createdAt: Date;
}

/**
 * Credit holds (migration 0890): the reservation of a request's credit and a copy of its messages,
 * written in one transaction. The API deletes the hold once the messages are queued; a hold that
 * outlives its request (the process was killed in between) is rolled forward by `recover`, so
 * reserved credit never goes missing without a message (and a CDR) for it.
 */
export class CreditHoldsRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Debits `total − bonus` when the user may spend `total`, and records the hold. False: not
   * enough credit, nothing written.
   */
  async reserve(h: HoldRequest): Promise<boolean> {
    return (await this.reserveMany([h]))[0]!;
  }

  /**
   * `reserve` for many requests in ONE transaction (group commit of concurrent requests): per
   * user one UPDATE for all of its requests when their sum fits (the usual case), else one per
   * request in the given order; then one multi-row INSERT of the holds of those that fit. Returns,
   * per request, whether it was reserved (false: not enough credit, nothing written for it).
   * Users are locked in id order, so concurrent calls cannot deadlock each other.
   */
  async reserveMany(reqs: HoldRequest[]): Promise<boolean[]> {
    const ok = new Array<boolean>(reqs.length).fill(false);
    if (reqs.length === 0) return ok;
    const byUser = new Map<number, number[]>();
    reqs.forEach((r, i) => {
      const l = byUser.get(r.userId);
      if (l) l.push(i);
      else byUser.set(r.userId, [i]);
    });
    const users = [...byUser.keys()].sort((a, b) => a - b);
    return this.db.transaction(async (trx) => {
      // The casts matter: a quoted parameter in arithmetic is a DOUBLE to MariaDB (see UsersRepo).
      const debit = async (userId: number, total: string, bonus: string) =>
        (await trx('users')
          .where({ id: userId })
          .andWhereRaw('credit - CAST(? AS DECIMAL(30,6)) >= credit_limit', [total])
          .update({
            credit: trx.raw('credit - CAST(? AS DECIMAL(30,6)) + CAST(? AS DECIMAL(30,6))', [total, bonus]),
          })) > 0;
      for (const userId of users) {
        const idx = byUser.get(userId)!;
        if (idx.length > 1) {
          // The sum fitting (bonuses not counted) implies every request fits one after the other.
          let total = 0n;
          let bonus = 0n;
          for (const i of idx) {
            total += parseDecimal(reqs[i]!.total);
            bonus += parseDecimal(reqs[i]!.bonus);
          }
          if (await debit(userId, formatDecimal(total), formatDecimal(bonus))) {
            for (const i of idx) ok[i] = true;
            continue;
          }
        }
        for (const i of idx) ok[i] = await debit(userId, reqs[i]!.total, reqs[i]!.bonus);
      }
      const rows = reqs
        .filter((_, i) => ok[i])
        .map((h) => ({
          token: h.token,
          user_id: h.userId,
          amount: formatDecimal(parseDecimal(h.total) - parseDecimal(h.bonus)),
          messages: JSON.stringify(h.messages),
        }));
      if (rows.length) await trx('credit_holds').insert(rows);
      return ok;
    });
  }

  /** The messages are durable in the queue: the holds are done. */
  async release(tokens: string[]): Promise<void> {
    if (tokens.length) await this.db('credit_holds').whereIn('token', tokens).delete();
  }

  /** The messages could not be queued: gives `amount` back and drops the hold, together. */
  async cancel(token: string, userId: number, amount: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const n = await trx('credit_holds').where({ token }).delete();
      // Already recovered by another replica: its messages were queued, nothing to give back.
      if (n === 0) return;
      await trx('users')
        .where({ id: userId })
        .update({ credit: trx.raw('credit + CAST(? AS DECIMAL(30,6))', [amount]) });
    });
  }

  /**
   * Rolls forward holds older than `olderThan`, one transaction each: the row is locked (other
   * replicas skip it), `requeue` queues its messages, then the row is deleted. A `requeue` that
   * throws leaves the hold for the next round. Returns the number of holds recovered.
   */
  async recover<M>(
    olderThan: Date,
    limit: number,
    requeue: (hold: CreditHold<M>) => Promise<void>,
  ): Promise<number> {
    let done = 0;
    for (let i = 0; i < limit; i++) {
      const recovered = await this.db.transaction(async (trx) => {
        const row = (await trx('credit_holds')
          .select('id', 'token', 'user_id', 'amount', 'messages', 'created_at')
          .where('created_at', '<', olderThan)
          .orderBy('id')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .first()) as
          | { id: number; token: string; user_id: number; amount: string; messages: string; created_at: Date }
          | undefined;
        if (!row) return false;
        await requeue({
          token: row.token,
          userId: row.user_id,
          amount: row.amount,
          messages: JSON.parse(row.messages) as M[],
          createdAt: row.created_at,
        });
        await trx('credit_holds').where({ id: row.id }).delete();
        return true;
      });
      if (!recovered) break;
      done++;
    }
    return done;
  }

  async count(): Promise<number> {
    const r = (await this.db('credit_holds').count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(r?.n ?? 0);
  }
}
