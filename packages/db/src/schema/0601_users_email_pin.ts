import type { Migration } from './migration.js';

/**
 * Users get an email address (inbound SMS by email), a pincode (SMS command authentication) and a
 * chat endpoint (a SIP URI or webhook URL where a SIP server or webhook delivers their chat
 * messages; `smsreceive_route` 3 emails users who have none).
 */
export const m0601: Migration = {
  name: '0601_users_email_pin',
  async up(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.string('email', 254).notNullable().defaultTo('');
      t.string('pin', 64).notNullable().defaultTo('');
      t.string('chat_endpoint', 255).notNullable().defaultTo('');
      t.index(['pin'], 'users_pin_idx');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['pin'], 'users_pin_idx');
      t.dropColumn('email');
      t.dropColumn('pin');
      t.dropColumn('chat_endpoint');
    });
  },
};
