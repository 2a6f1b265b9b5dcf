import type { Knex } from 'knex';

/**
 * Runs the admin-written `{SELECT ...}` placeholders of `smsurl`/`smssenddata`/`smssendheader`.
 * The message's values are bound parameters (`?`), never concatenated into the SQL, and each
 * query runs in a READ ONLY transaction with a statement timeout, so neither a message text nor a
 * slow query can change data or hold a send for long. Returns the first column of the first row.
 */
export class TemplateQueryRunner {
  constructor(private readonly db: Knex) {}

  async run(sql: string, params: readonly (string | number)[], timeoutMs: number): Promise<string> {
    if (!/^\s*select\b/i.test(sql)) throw new Error('only SELECT queries may run in templates');
    const seconds = Math.max(0.001, timeoutMs / 1000).toFixed(3);
    const rows = await this.db.transaction(
      async (trx) => {
        // MariaDB's per-statement limit stops the query on the server; knex's timeout cancels the
        // wait on our side as well (and covers MySQL, which does not know SET STATEMENT).
        const [result] = (await trx
          .raw(`SET STATEMENT max_statement_time=${seconds} FOR ${sql}`, [...params])
          .timeout(timeoutMs, { cancel: true })) as [Record<string, unknown>[]];
        return result;
      },
      { readOnly: true },
    );
    const first = rows[0];
    if (!first) return '';
    const v = Object.values(first)[0];
    if (v === null || v === undefined) return '';
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v) ?? '';
  }
}
