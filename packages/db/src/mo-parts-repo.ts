import type { Knex } from 'knex';
import type { MoMessage } from '@smsfleet/core';

/**
 * Parts of concatenated inbound messages waiting for their siblings. Parts may arrive in any order,
 * twice, and at different inbound replicas: each is stored under (group, seq); whoever stores the
 * last one takes the whole group in a transaction (`FOR UPDATE` + delete), so one replica delivers it.
 */
export class MoPartsRepo {
  constructor(private readonly db: Knex) {}

  async store(groupKey: string, part: MoMessage & { part: NonNullable<MoMessage['part']> }): Promise<void> {
    await this.db('mo_parts')
      .insert({
        group_key: groupKey,
        seq: part.part.seq,
        mo_id: part.id,
        payload: JSON.stringify(part),
        received_at: new Date(part.receivedAt),
      })
      .onConflict(['group_key', 'seq'])
      .ignore();
  }

  /**
   * When all `total` parts are stored, removes and returns them (any order); else undefined and
   * nothing changes. Run `complete` inside the same transaction so a failure puts the parts back.
   */
  async takeComplete<T>(
    groupKey: string,
    total: number,
    complete: (parts: MoMessage[]) => Promise<T>,
  ): Promise<T | undefined> {
    return this.db.transaction(async (trx) => {
      const rows = (await trx('mo_parts')
        .select('payload', 'seq')
        .where({ group_key: groupKey })
        .forUpdate()) as { payload: string; seq: number }[];
      if (new Set(rows.map((r) => r.seq)).size < total) return undefined;
      const parts = rows.map((r) => JSON.parse(r.payload) as MoMessage);
      const result = await complete(parts);
      await trx('mo_parts').where({ group_key: groupKey }).delete();
      return result;
    });
  }

  /** Drops parts older than `maxAgeMs` whose siblings never came; returns them for the record. */
  async expire(maxAgeMs: number): Promise<MoMessage[]> {
    const before = new Date(Date.now() - maxAgeMs);
    const rows = (await this.db('mo_parts')
      .select('payload', 'group_key', 'seq')
      .where('received_at', '<', before)) as {
      payload: string;
      group_key: string;
      seq: number;
    }[];
    if (rows.length === 0) return [];
    await this.db('mo_parts').where('received_at', '<', before).delete();
    return rows.map((r) => JSON.parse(r.payload) as MoMessage);
  }
}
