import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './connect.js';
import { MIGRATIONS, migrate, rollbackAll } from './migrations.js';
import { createTestDb, type TestDb } from '../test/test-db.js';

describe('migrations', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb({ migrate: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('applies every migration once, then nothing; rolls back and re-applies', async () => {
    const names = MIGRATIONS.map((m) => m.name);
    expect(await migrate(t.db)).toEqual(names);
    expect(await migrate(t.db)).toEqual([]);
    for (const table of ['users', 'config', 'cdr']) expect(await t.db.schema.hasTable(table)).toBe(true);

    const [[status]] = (await t.db.raw(
      "SELECT ENGINE AS engine, TABLE_COLLATION AS coll FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cdr'",
    )) as [[{ engine: string; coll: string }]];
    expect(status).toEqual({ engine: 'InnoDB', coll: 'utf8mb4_unicode_ci' });

    expect((await rollbackAll(t.db)).sort()).toEqual([...names].sort());
    expect(await t.db.schema.hasTable('cdr')).toBe(false);
    expect(await migrate(t.db)).toEqual(names);
  });

  it('is safe when two processes migrate at once', async () => {
    await rollbackAll(t.db);
    // Separate pools, as separate services would have.
    const other = createDb(t.url, { pool: { min: 0, max: 2 } });
    try {
      const results = await Promise.all([migrate(t.db), migrate(other), migrate(t.db)]);
      // One applies everything; the others wait for the lock, then find nothing to do.
      expect(results.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await other.destroy();
    }
    expect(await migrate(t.db)).toEqual([]);
  });
});
