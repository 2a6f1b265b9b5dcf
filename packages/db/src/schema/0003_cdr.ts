import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

export const m0003: Migration = {
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
};
