import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

/**
 * Credit holds: the API reserves a request's credit and writes its messages here in ONE
 * transaction, and deletes the row once the messages are durable in the queue. A row that stays
 * (the process died between the two) is rolled forward by any api-gateway: its messages are
 * queued, so reserved credit is always matched by messages that end in a CDR.
 */
export const m0890: Migration = {
  name: '0890_credit_holds',
  async up(knex) {
    await knex.schema.createTable('credit_holds', (t) => {
      tableDefaults(t);
      t.bigIncrements('id').unsigned().primary();
      t.string('token', 40).notNullable().collate('ascii_bin').unique('credit_holds_token_unique');
      t.integer('user_id').unsigned().notNullable();
      t.decimal('amount', 18, 6).notNullable();
      // The messages of the request (OutboundSms JSON array), queued again on recovery.
      t.specificType('messages', 'LONGTEXT').notNullable();
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.index(['created_at'], 'credit_holds_created_at_idx');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('credit_holds');
  },
};
