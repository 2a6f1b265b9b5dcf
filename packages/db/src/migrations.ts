/**
 * Schema migrations, kept in code: a custom knex `migrationSource` over the array below, so no
 * migration file is loaded at run time (works the same from src/ under vitest and from dist/).
 * Append new migrations; never edit or reorder applied ones.
 */
import type { Knex } from 'knex';

export interface Migration {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

const now3 = (knex: Knex) => knex.raw('CURRENT_TIMESTAMP(3)');
const now3OnUpdate = (knex: Knex) => knex.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)');

function tableDefaults(t: Knex.CreateTableBuilder): void {
  t.engine('InnoDB');
  t.charset('utf8mb4');
  t.collate('utf8mb4_unicode_ci');
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: '0001_users',
    async up(knex) {
      await knex.schema.createTable('users', (t) => {
        tableDefaults(t);
        t.increments('id').unsigned().primary();
        t.string('name', 64).notNullable().unique();
        // Stored as given, not hashed: Mizu's `authmd5` = md5(authid:password:authsalt) needs the
        // plain password on the server side. Protect the table accordingly; never log it.
        t.string('password', 128).notNullable();
        t.string('type', 16).notNullable(); // 'user' | 'admin' | 'smsgw'
        t.boolean('enabled').notNullable().defaultTo(true);
        t.boolean('sms_allowed').notNullable().defaultTo(true);
        t.decimal('credit', 18, 6).notNullable().defaultTo(0);
        t.decimal('credit_limit', 18, 6).notNullable().defaultTo(0);
        t.text('smsurl').nullable(); // 'smsgw' users: the gateway URL (as the global smsurl)
        t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
        t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
        t.index(['type'], 'users_type_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('users');
    },
  },
  {
    name: '0002_config',
    async up(knex) {
      await knex.schema.createTable('config', (t) => {
        tableDefaults(t);
        t.string('key', 64).notNullable().primary();
        t.text('value').notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('config');
    },
  },
  {
    name: '0003_cdr',
    async up(knex) {
      await knex.schema.createTable('cdr', (t) => {
        tableDefaults(t);
        t.bigIncrements('id').unsigned().primary();
        // Binary collation: ids are compared exactly (the table default is case-insensitive, which
        // would make two smsids differing only in case collide and the second CDR be ignored).
        t.string('smsid', 40).notNullable().collate('utf8mb4_bin').unique('cdr_smsid_unique');
        t.string('type', 8).notNullable().defaultTo('SMS');
        t.integer('user_id').unsigned().notNullable();
        t.integer('gateway_id').unsigned().notNullable(); // 0 = the global smsurl
        t.string('caller', 64).notNullable(); // from number
        t.string('callee', 64).notNullable(); // to number
        t.integer('segments').notNullable();
        t.integer('duration').notNullable(); // seconds (smstime when delivered, else 0)
        t.decimal('cost', 18, 6).notNullable().defaultTo(0);
        t.string('state', 16).notNullable();
        t.string('disconnect_reason', 255).notNullable().defaultTo('');
        t.text('comment').nullable();
        t.string('provider_msgid', 128).nullable().collate('utf8mb4_bin');
        t.string('client_ip', 64).notNullable().defaultTo('');
        t.datetime('accepted_at', { precision: 3 }).notNullable();
        t.datetime('submitted_at', { precision: 3 }).nullable();
        t.datetime('final_at', { precision: 3 }).notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
        t.index(['user_id', 'id'], 'cdr_user_id_idx');
        t.index(['created_at'], 'cdr_created_at_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('cdr');
    },
  },
];

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
