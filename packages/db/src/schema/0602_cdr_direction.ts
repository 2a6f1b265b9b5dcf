import type { Migration } from './migration.js';

/** Inbound messages get CDRs too: `direction` tells them from the outbound ones. */
export const m0602: Migration = {
  name: '0602_cdr_direction',
  async up(knex) {
    await knex.schema.alterTable('cdr', (t) => {
      t.string('direction', 8).notNullable().defaultTo('outbound'); // 'outbound' | 'inbound'
    });
  },
  async down(knex) {
    await knex.schema.alterTable('cdr', (t) => {
      t.dropColumn('direction');
    });
  },
};
