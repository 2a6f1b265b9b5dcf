import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { addDecimal, compareDecimal } from '@smsfleet/core';
import { CDR_INSERT_CHUNK, CdrRepo, type CdrInsert } from './cdr-repo.js';

/** A CDR to write and the credit to give back to its user if (and only if) this write inserts it. */
export interface Settlement {
  cdr: CdrInsert;
  /** Decimal string; '0' when nothing goes back. */
  refund: string;
}

export interface SettleResult {
  /** CDRs inserted by this call (the others existed already). */
  inserted: number;
  /** Sum of credit given back, per user id. */
  refunds: Map<number, string>;
  /** Messages whose reservation went back. */
  refundedMessages: number;
}

/**
 * Writes CDRs and settles reserved credit exactly once per smsid, even with redelivered events
 * and several billing replicas: in ONE transaction, `INSERT IGNORE` the rows tagged with a token
 * unique to this transaction, read back which smsids carry the token (exactly the rows this
 * transaction inserted), and refund only those, one UPDATE per user. A rolled-back or lost commit
 * leaves nothing; the retry uses a new token and finds the rows of a commit that did succeed.
 */
export class BillingRepo {
  private readonly cdrs: CdrRepo;

  constructor(private readonly db: Knex) {
    this.cdrs = new CdrRepo(db);
  }

  async settle(items: readonly Settlement[]): Promise<SettleResult> {
    if (items.length === 0) return { inserted: 0, refunds: new Map(), refundedMessages: 0 };
    const token = randomBytes(12).toString('hex');
    const bySmsid = new Map<string, Settlement>();
    for (const it of items) if (!bySmsid.has(it.cdr.smsid)) bySmsid.set(it.cdr.smsid, it);
    const rows = [...bySmsid.values()].map((it) => ({ ...it.cdr, billingBatch: token }));
    const smsids = [...bySmsid.keys()];
    return this.db.transaction(async (trx) => {
      await this.cdrs.insertBatch(rows, trx);
      const mine = new Set<string>();
      for (let i = 0; i < smsids.length; i += CDR_INSERT_CHUNK) {
        const found = (await trx('cdr')
          .select('smsid')
          .whereIn('smsid', smsids.slice(i, i + CDR_INSERT_CHUNK))
          .andWhere('billing_batch', token)) as { smsid: string }[];
        for (const r of found) mine.add(r.smsid);
      }
      const refunds = new Map<number, string>();
      let refundedMessages = 0;
      for (const smsid of mine) {
        const it = bySmsid.get(smsid)!;
        if (compareDecimal(it.refund, '0') <= 0) continue;
        refundedMessages++;
        const uid = it.cdr.userId;
        refunds.set(uid, addDecimal(refunds.get(uid) ?? '0', it.refund));
      }
      // Ascending user ids: two replicas settling overlapping users lock rows in the same order.
      for (const uid of [...refunds.keys()].sort((a, b) => a - b)) {
        await trx('users')
          .where({ id: uid })
          .update({ credit: trx.raw('credit + CAST(? AS DECIMAL(18,6))', [refunds.get(uid)!]) });
      }
      return { inserted: mine.size, refunds, refundedMessages };
    });
  }
}
