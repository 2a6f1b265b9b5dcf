import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

/**
 * Inbound SMS and SMS commands: the users' registered numbers (target lookup, caller-id
 * authentication, `n` command), the inbox, concatenated parts waiting for their siblings, recharge
 * codes with their credit audit, and callback / phone-to-phone requests.
 */
export const m0600: Migration = {
  name: '0600_inbound',
  async up(knex) {
    await knex.schema.createTable('registered_numbers', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.integer('user_id').unsigned().notNullable();
      // Normalised digits (no +): one number belongs to one user.
      t.string('number', 32).notNullable().collate('ascii_bin').unique('registered_numbers_number_unique');
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.index(['user_id'], 'registered_numbers_user_idx');
    });
    await knex.schema.createTable('inbox', (t) => {
      tableDefaults(t);
      t.bigIncrements('id').unsigned().primary();
      // The MoMessage id (or the assembled message's id): redelivery inserts nothing.
      t.string('mo_id', 40).notNullable().collate('utf8mb4_bin').unique('inbox_mo_id_unique');
      t.integer('user_id').unsigned().notNullable(); // 0: no user owns the target number
      t.string('from_number', 64).notNullable();
      t.string('to_number', 64).notNullable();
      t.text('text').notNullable();
      t.integer('parts').notNullable().defaultTo(1);
      t.string('source', 8).notNullable(); // 'http' | 'smpp'
      t.integer('gateway_id').unsigned().notNullable().defaultTo(0);
      // Shown in the user's inbox (chat delivery); email-only deliveries are kept for the record.
      t.boolean('chat').notNullable().defaultTo(false);
      t.string('email_state', 8).notNullable().defaultTo('none'); // none | pending | sent | failed
      t.integer('email_attempts').notNullable().defaultTo(0);
      t.string('email_error', 255).notNullable().defaultTo('');
      t.string('command', 16).notNullable().defaultTo(''); // SMS command run for it, if any
      t.datetime('received_at', { precision: 3 }).notNullable();
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.index(['user_id', 'chat', 'id'], 'inbox_user_idx');
    });
    await knex.schema.createTable('mo_parts', (t) => {
      tableDefaults(t);
      t.string('group_key', 160).notNullable().collate('utf8mb4_bin');
      t.integer('seq').notNullable();
      t.string('mo_id', 40).notNullable().collate('utf8mb4_bin');
      t.text('payload').notNullable(); // the MoMessage as JSON
      t.datetime('received_at', { precision: 3 }).notNullable();
      t.primary(['group_key', 'seq']);
      t.index(['received_at'], 'mo_parts_received_idx');
    });
    await knex.schema.createTable('recharge_codes', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.string('code', 64).notNullable().collate('ascii_bin').unique('recharge_codes_code_unique');
      t.decimal('value', 18, 6).notNullable();
      t.integer('used_by').unsigned().nullable();
      t.datetime('used_at', { precision: 3 }).nullable();
      t.string('used_via', 64).nullable(); // mo id of the SMS that used it
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
    });
    await knex.schema.createTable('credit_audit', (t) => {
      tableDefaults(t);
      t.bigIncrements('id').unsigned().primary();
      t.integer('user_id').unsigned().notNullable();
      t.decimal('amount', 18, 6).notNullable();
      t.decimal('balance_after', 18, 6).notNullable();
      t.string('reason', 32).notNullable(); // 'recharge'
      t.string('ref', 128).notNullable().defaultTo(''); // e.g. recharge code id and mo id
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.index(['user_id', 'id'], 'credit_audit_user_idx');
    });
    await knex.schema.createTable('callback_requests', (t) => {
      tableDefaults(t);
      t.bigIncrements('id').unsigned().primary();
      t.string('mo_id', 40).notNullable().collate('utf8mb4_bin').unique('callback_requests_mo_unique');
      t.string('kind', 8).notNullable(); // 'callback' | 'p2p'
      t.integer('user_id').unsigned().notNullable();
      t.string('number1', 32).notNullable();
      t.string('number2', 32).notNullable().defaultTo('');
      t.string('ivr', 128).notNullable().defaultTo(''); // defcallbackivr at request time
      t.string('state', 16).notNullable().defaultTo('requested');
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.index(['user_id', 'id'], 'callback_requests_user_idx');
    });
  },
  async down(knex) {
    for (const t of [
      'callback_requests',
      'credit_audit',
      'recharge_codes',
      'mo_parts',
      'inbox',
      'registered_numbers',
    ])
      await knex.schema.dropTableIfExists(t);
  },
};
