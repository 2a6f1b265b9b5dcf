import type { Migration } from './migration.js';
import { now3, tableDefaults } from './helpers.js';

/**
 * Audit log of admin actions: who (user or `cli:<os user>`), from where (web, api, cli), what
 * (action, target) and details without secrets. Append-only.
 */
export const m0820: Migration = {
  name: '0820_audit_log',
  async up(knex) {
    await knex.schema.createTable('audit_log', (t) => {
      tableDefaults(t);
      t.bigIncrements('id').unsigned().primary();
      t.datetime('at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.integer('actor_id').unsigned().nullable(); // users.id for web/api actors
      t.string('actor', 128).notNullable(); // user name or cli:<os user>
      t.string('source', 8).notNullable(); // web | api | cli | sms
      t.string('action', 64).notNullable(); // e.g. config.set, user.credit, gateway.pause
      t.string('target', 255).notNullable().defaultTo('');
      t.text('details').notNullable(); // JSON, secrets masked
      t.string('remote_addr', 64).nullable();
      t.index(['at'], 'audit_log_at_idx');
      t.index(['action', 'id'], 'audit_log_action_idx');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('audit_log');
  },
};
