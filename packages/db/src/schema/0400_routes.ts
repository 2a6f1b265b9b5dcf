import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

/** Routing rules of type SMS (Mizu's "Routing" form restricted to SMS GW users). */
export const m0400: Migration = {
  name: '0400_routes',
  async up(knex) {
    await knex.schema.createTable('routes', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.string('service_type', 8).notNullable().defaultTo('SMS');
      t.string('pattern_type', 8).notNullable(); // 'prefix' | 'regex'
      t.string('pattern', 255).notNullable();
      t.integer('gateway_id').unsigned().notNullable(); // users.id of an 'smsgw' user
      t.integer('priority').notNullable().defaultTo(10); // lower first
      t.integer('weight').unsigned().notNullable().defaultTo(1);
      t.string('sender_prefix', 64).nullable();
      t.integer('user_id').unsigned().nullable();
      t.string('user_group', 64).nullable();
      t.boolean('enabled').notNullable().defaultTo(true);
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('routes');
  },
};
