import type { Migration } from './migration.js';
import { now3, now3OnUpdate, tableDefaults } from './helpers.js';

export const m0001: Migration = {
  name: '0001_users',
  async up(knex) {
    await knex.schema.createTable('users', (t) => {
      tableDefaults(t);
      t.increments('id').unsigned().primary();
      t.string('name', 64).notNullable().unique();
      // Stored as given, not hashed: Mizu's `authmd5` = md5(authid:password:authsalt) needs the
      // plain password on the server side. Protect the table accordingly; never log it.
      t.string('password', 128).notNullable();
      t.string('type', 16).notNullable(); // 'user' | 'admin' | 'smsgw'
      t.boolean('enabled').notNullable().defaultTo(true);
      t.boolean('sms_allowed').notNullable().defaultTo(true);
      t.decimal('credit', 18, 6).notNullable().defaultTo(0);
      t.decimal('credit_limit', 18, 6).notNullable().defaultTo(0);
      t.text('smsurl').nullable(); // 'smsgw' users: the gateway URL (as the global smsurl)
      t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(now3(knex));
      t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(now3OnUpdate(knex));
      t.index(['type'], 'users_type_idx');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('users');
  },
};
