/**
 * Schema migrations, kept in code: a custom knex `migrationSource` over the array below, so no
 * migration file is loaded at run time (works the same from src/ under vitest and from dist/).
 * Append new migrations; never edit or reorder applied ones.
 */
import type { Knex } from 'knex';

import { MIGRATIONS } from './schema/index.js';
import type { Migration } from './schema/migration.js';

export { MIGRATIONS, type Migration };

export const MIGRATIONS_TABLE = 'knex_migrations';

function migrationSource(migrations: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: () => Promise.resolve([...migrations]),
    getMigrationName: (m) => m.name,
    getMigration: (m) => Promise.resolve({ up: m.up, down: m.down }),
  };
}

function migratorConfig(migrations: readonly Migration[]): Knex.MigratorConfig {
  return {
    tableName: MIGRATIONS_TABLE,
    migrationSource: migrationSource(migrations),
  };
}

export interface MigrateOptions {
  migrations?: readonly Migration[];
  /**
   * knex's lock table lets one process migrate; the others fail with MigrationLocked. Several
   * services starting together is normal, so wait for the lock up to this long. Default 30000.
   */
  lockWaitMs?: number;
}

function isMigrationLocked(err: unknown): boolean {
  return err instanceof Error && err.name === 'MigrationLocked';
}

/** Applies pending migrations; returns the names applied (empty when up to date). */
export async function migrate(knex: Knex, opts: MigrateOptions = {}): Promise<string[]> {
  const config = migratorConfig(opts.migrations ?? MIGRATIONS);
  const deadline = Date.now() + (opts.lockWaitMs ?? 30_000);
  for (;;) {
    try {
      const [, applied] = (await knex.migrate.latest(config)) as [number, string[]];
      return applied;
    } catch (err) {
      if (!isMigrationLocked(err) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 150));
    }
  }
}

/** Rolls every applied migration back; returns their names. */
export async function rollbackAll(
  knex: Knex,
  opts: { migrations?: readonly Migration[] } = {},
): Promise<string[]> {
  const [, rolledBack] = (await knex.migrate.rollback(
    migratorConfig(opts.migrations ?? MIGRATIONS),
    true,
  )) as [number, string[]];
  return rolledBack;
}
