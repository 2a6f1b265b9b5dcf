/**
 * Test helper (not exported from the package): a fresh database per test file, dropped after.
 * Lives outside src/ so it is not built into dist.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createDb, dropDatabase, ensureDatabase } from '../src/connect.js';
import { migrate } from '../src/migrations.js';

const BASE_URL = process.env['TEST_DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306';

export interface TestDb {
  url: string;
  db: Knex;
  close(): Promise<void>;
}

export async function createTestDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const name = `smsfleet_t_${randomBytes(6).toString('hex')}`;
  const url = `${BASE_URL.replace(/\/+$/, '')}/${name}`;
  await ensureDatabase(url);
  const db = createDb(url, { pool: { min: 0, max: 4 } });
  if (opts.migrate !== false) await migrate(db);
  let closed: Promise<void> | undefined;
  return {
    url,
    db,
    close: () =>
      (closed ??= (async () => {
        try {
          await db.destroy();
        } finally {
          await dropDatabase(url);
        }
      })()),
  };
}
