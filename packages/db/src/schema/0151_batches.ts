import type { Migration } from './migration.js';
import { now3, now3OnUpdate, tableDefaults } from './helpers.js';

export const m0151: Migration = {
  name: '0151_batches',
  async up(knex) {
    await knex.schema.createTable('batches', (t) => {
      tableDefaults(t);
      // UUID v7 chosen by the API (sorts by creation time).
      t.string('id', 40).notNullable().collate('ascii_bin').primary();
      t.integer('user_id').unsigned().notNullable();
      t.integer('total').unsigned().notNullable();
      // 'queuing' (chunks being added) | 'queued' | 'cancelled' | 'failed' (could not be queued)
      t.string('state', 16).notNullable();
      t.string('reason', 255).notNullable().defaultTo('');
      t.datetime('scheduled_at', { precision: 3 }).nullable();
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
      t.index(['user_id', 'created_at'], 'batches_user_idx');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('batches');
  },
};
