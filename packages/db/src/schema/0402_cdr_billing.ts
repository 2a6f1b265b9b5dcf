import type { Migration } from './migration.js';

/**
 * CDR additions for exact billing: `billing_batch` is a token unique to the billing transaction
 * that inserted the row, so that transaction can tell the rows it inserted from rows another
 * replica (or an earlier delivery) inserted, and settle credit for its own rows only.
 * `reserved` is what the API debited at accept time (NULL: nothing reserved).
 * `route_attempt` counts the gateways the message went through (failover).
 */
export const m0402: Migration = {
  name: '0402_cdr_billing',
  async up(knex) {
    await knex.schema.alterTable('cdr', (t) => {
      t.string('billing_batch', 32).nullable().collate('ascii_bin');
      t.decimal('reserved', 18, 6).nullable();
      t.integer('route_attempt').notNullable().defaultTo(1);
      // CDR search filters (cdr list --gateway, GET /v1/cdrs?gateway=).
      t.index(['gateway_id', 'id'], 'cdr_gateway_id_idx');
      t.index(['final_at'], 'cdr_final_at_idx');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('cdr', (t) => {
      t.dropIndex(['gateway_id', 'id'], 'cdr_gateway_id_idx');
      t.dropIndex(['final_at'], 'cdr_final_at_idx');
      t.dropColumn('billing_batch');
      t.dropColumn('reserved');
      t.dropColumn('route_attempt');
    });
  },
};
