import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { isDuplicateKeyError } from './errors.js';

export interface RechargeCode {
  id: number;
  code: string;
  value: string;
  usedBy: number | null;
  usedAt: Date | null;
  createdAt: Date;
}

export type RedeemResult =
  | { ok: true; value: string; balance: string; codeId: number; replay?: boolean }
  | { ok: false; reason: 'unknown' | 'used' | 'no-user' };

interface CodeRow {
  id: number;
  code: string;
  value: string;
  used_by: number | null;
  used_at: Date | null;
  created_at: Date;
}

const toCode = (r: CodeRow): RechargeCode => ({
  id: r.id,
  code: r.code,
  value: r.value,
  usedBy: r.used_by,
  usedAt: r.used_at,
  createdAt: r.created_at,
});

/** Digits only: a recharge code is typed on a phone keypad. */
function newCode(length: number): string {
  let s = String(randomInt(1, 10));
  while (s.length < length) s += String(randomInt(0, 10));
  return s;
}

/**
 * Recharge codes: single use, redeemed atomically, every credit change audited. The conditional
 * UPDATE (`used_at IS NULL`) takes the code's row lock, so of two parallel redemptions exactly one
 * changes a row; the credit and the audit row are written in the same transaction.
 */
export class RechargeRepo {
  constructor(private readonly db: Knex) {}

  async create(value: string, count = 1, length = 12): Promise<RechargeCode[]> {
    const out: RechargeCode[] = [];
    while (out.length < count) {
      const code = newCode(length);
      try {
        const [id] = await this.db('recharge_codes').insert({ code, value });
        const r = (await this.db('recharge_codes')
          .where({ id: Number(id) })
          .first()) as CodeRow;
        out.push(toCode(r));
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err; // a collision: draw again
      }
    }
    return out;
  }

  async list(opts: { unusedOnly?: boolean; limit?: number } = {}): Promise<RechargeCode[]> {
    const q = this.db('recharge_codes')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 100);
    if (opts.unusedOnly) q.whereNull('used_at');
    return ((await q) as CodeRow[]).map(toCode);
  }

  /** Credits `userId` with the code's value, once. `ref` (e.g. the SMS id) goes into the audit. */
  async redeem(code: string, userId: number, ref: string): Promise<RedeemResult> {
    return this.db
      .transaction(async (trx) => {
        const changed = await trx('recharge_codes')
          .where({ code })
          .whereNull('used_at')
          .update({ used_by: userId, used_at: trx.raw('CURRENT_TIMESTAMP(3)'), used_via: ref.slice(0, 64) });
        if (changed === 0) {
          const used = (await trx('recharge_codes')
            .select('id', 'value', 'used_by', 'used_via')
            .where({ code })
            .first()) as
            { id: number; value: string; used_by: number | null; used_via: string | null } | undefined;
          if (!used) return { ok: false as const, reason: 'unknown' as const };
          // The same SMS again (a redelivery after a crash): report the earlier success, credit nothing.
          if (ref !== '' && used.used_via === ref.slice(0, 64) && used.used_by === userId) {
            const u = (await trx('users').select('credit').where({ id: userId }).first()) as
              { credit: string } | undefined;
            return {
              ok: true as const,
              value: used.value,
              balance: u?.credit ?? '0',
              codeId: used.id,
              replay: true,
            };
          }
          return { ok: false as const, reason: 'used' as const };
        }
        const row = (await trx('recharge_codes').select('id', 'value').where({ code }).first()) as {
          id: number;
          value: string;
        };
        const n = await trx('users')
          .where({ id: userId })
          .update({ credit: trx.raw('credit + CAST(? AS DECIMAL(18,6))', [row.value]) });
        if (n === 0) {
          // Roll back the code's use: it stays redeemable.
          throw new NoSuchUser();
        }
        const u = (await trx('users').select('credit').where({ id: userId }).first()) as { credit: string };
        await trx('credit_audit').insert({
          user_id: userId,
          amount: row.value,
          balance_after: u.credit,
          reason: 'recharge',
          ref: `code:${row.id} ${ref}`.slice(0, 128),
        });
        return { ok: true as const, value: row.value, balance: u.credit, codeId: row.id };
      })
      .catch((err: unknown) => {
        if (err instanceof NoSuchUser) return { ok: false as const, reason: 'no-user' as const };
        throw err;
      });
  }
}

class NoSuchUser extends Error {}
