import type { Knex } from 'knex';

/** The global config rows (`key` -> raw text). Validation lives in @smsfleet/config. */
export class ConfigRepo {
  constructor(private readonly db: Knex) {}

  async getAll(): Promise<Record<string, string>> {
    const rows = await this.db<{ key: string; value: string }>('config').select('key', 'value');
    const out: Record<string, string> = {};
    for (const r of rows) out[r.key] = r.value;
    return out;
  }

  async get(key: string): Promise<string | undefined> {
    const r = (await this.db('config').select('value').where({ key }).first()) as
      { value: string } | undefined;
    return r?.value;
  }

  /** Insert or update. updated_at moves only when the value actually changes. */
  async set(key: string, value: string): Promise<void> {
    await this.db('config').insert({ key, value }).onConflict('key').merge(['value']);
  }

  /** Returns true if a row was deleted. */
  async delete(key: string): Promise<boolean> {
    return (await this.db('config').where({ key }).delete()) > 0;
  }

  /**
   * A cheap fingerprint for change polling: row count, latest updated_at, and a checksum of the
   * contents. The checksum catches what the first two miss: a second write within the same
   * millisecond as the latest one (after a poll read it), or a delete paired with an insert.
   */
  async version(): Promise<string> {
    const [rows] = (await this.db.raw(
      "SELECT COUNT(*) AS n, DATE_FORMAT(MAX(updated_at), '%Y-%m-%d %H:%i:%s.%f') AS t, " +
        "COALESCE(SUM(CRC32(CONCAT(`key`, '=', `value`))), 0) AS c FROM config",
    )) as [{ n: number | string; t: string | null; c: number | string }[]];
    const r = rows[0];
    return r ? `${r.n}/${r.t ?? '-'}/${r.c}` : '0/-/0';
  }
}
