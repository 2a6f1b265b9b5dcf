import type { Migration } from './migration.js';
import { now3, now3OnUpdate, tableDefaults } from './helpers.js';

/**
 * Mizu's tb_advertisement: texts inserted before outbound SMS when `smsadv` is on. The api-gateway
 * keeps the enabled rows in memory (no query per message) and picks one at random per message,
 * weighted by `weight`.
 */
export const m0100: Migration = {
  name: '0100_advertisements',
  async up(knex) {
    await knex.schema.createTable('advertisements', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.string('text', 640).notNullable();
      t.boolean('enabled').notNullable().defaultTo(true);
      t.integer('weight').unsigned().notNullable().defaultTo(1);
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('advertisements');
  },
};
