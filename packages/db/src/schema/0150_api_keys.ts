import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

export const m0150: Migration = {
  name: '0150_api_keys',
  async up(knex) {
    await knex.schema.createTable('api_keys', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.integer('user_id').unsigned().notNullable();
      // sha256 hex of the token: the token itself is shown once at creation and never stored.
      t.string('token_hash', 64).notNullable().collate('ascii_bin').unique('api_keys_token_hash_unique');
      // The token's first characters, so an operator can tell keys apart in `apikey list`.
      t.string('token_prefix', 16).notNullable();
      t.string('label', 64).notNullable().defaultTo('');
      t.boolean('enabled').notNullable().defaultTo(true);
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.datetime('revoked_at', { precision: 3 }).nullable();
      t.index(['user_id'], 'api_keys_user_idx');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('api_keys');
  },
};
