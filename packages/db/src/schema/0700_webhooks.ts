import type { Migration } from './migration.js';

/** Status webhooks: a callback URL and an HMAC secret per user (per-request URLs ride the message). */
export const m0700: Migration = {
  name: '0700_webhooks',
  async up(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.string('webhook_url', 1000).nullable();
      t.string('webhook_secret', 128).nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.dropColumn('webhook_url');
      t.dropColumn('webhook_secret');
    });
  },
};
