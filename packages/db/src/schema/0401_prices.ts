import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

/**
 * Price setup (service type SMS): price of one SMS segment (one `smstime` unit) by destination
 * prefix, general, per price packet or per user. 0 / '' mean "any", so the unique key holds
 * (NULLs would never collide in a MySQL unique index).
 */
export const m0401: Migration = {
  name: '0401_prices',
  async up(knex) {
    await knex.schema.createTable('prices', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.string('service_type', 8).notNullable().defaultTo('SMS');
      t.string('prefix', 32).notNullable().collate('ascii_bin');
      t.decimal('price', 18, 6).notNullable();
      t.integer('user_id').unsigned().notNullable().defaultTo(0);
      t.string('packet', 64).notNullable().defaultTo('');
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.unique(['service_type', 'user_id', 'packet', 'prefix'], { indexName: 'prices_scope_prefix_unique' });
    });
    // The price packet (and routing group) of a user, as Mizu's tb_users price packet.
    await knex.schema.alterTable('users', (t) => {
      t.string('price_packet', 64).notNullable().defaultTo('');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.dropColumn('price_packet');
    });
    await knex.schema.dropTableIfExists('prices');
  },
};
