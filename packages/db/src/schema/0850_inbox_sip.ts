import type { Migration } from './migration.js';

/**
 * The SIP front delivers chat messages to users' registered SIP contacts: the outcome of that
 * delivery (`delivered`, `failed`, `no-contact`), its attempts and the last SIP answer or error.
 */
export const m0850: Migration = {
  name: '0850_inbox_sip',
  async up(knex) {
    await knex.schema.alterTable('inbox', (t) => {
      t.string('sip_state', 16).notNullable().defaultTo('');
      t.integer('sip_attempts').unsigned().notNullable().defaultTo(0);
      t.string('sip_detail', 255).notNullable().defaultTo('');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('inbox', (t) => {
      t.dropColumn('sip_state');
      t.dropColumn('sip_attempts');
      t.dropColumn('sip_detail');
    });
  },
};
