import type { Migration } from './migration.js';
import { now3OnUpdate, tableDefaults } from './helpers.js';

export const m0002: Migration = {
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
};
