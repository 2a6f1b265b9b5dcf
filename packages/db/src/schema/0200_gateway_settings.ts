import type { Migration } from './migration.js';
import { now3OnUpdate, tableDefaults } from './helpers.js';

export const m0200: Migration = {
  name: '0200_gateway_settings',
  async up(knex) {
    // One row per gateway (users.id of an SMS GW user; 0 = the global smsurl), so no foreign key.
    await knex.schema.createTable('gateway_settings', (t) => {
      tableDefaults(t);
      t.integer('gateway_id').unsigned().primary();
      // JSON object of @smsfleet/core GatewaySettings, validated before it is written.
      t.text('settings', 'mediumtext').notNullable();
      t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('gateway_settings');
  },
};
