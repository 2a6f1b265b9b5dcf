import type { Knex } from 'knex';
import { hashSecret } from '@smsfleet/security';
import type { Migration } from './migration.js';

/**
 * API keys are stored as scrypt hashes like passwords (0150 kept a sha256 of the token). The
 * stored value is scrypt over the token's sha256 (hex), so the existing rows are converted without
 * knowing their tokens: `secret_hash` = scrypt(token_hash). New tokens carry their key id
 * (`sfk_<id>.<secret>`), so a request is checked against one row; tokens of the old form are found by
 * their stored first characters (`token_prefix`, now indexed). The sha256 column is dropped.
 */
export const m0801: Migration = {
  name: '0801_api_key_hashes',
  async up(knex: Knex) {
    await knex.schema.alterTable('api_keys', (t) => {
      t.string('secret_hash', 255).notNullable().defaultTo('');
      t.index(['token_prefix'], 'api_keys_token_prefix_idx');
    });
    const rows: { id: number; token_hash: string }[] = await knex('api_keys').select('id', 'token_hash');
    for (const r of rows)
      await knex('api_keys')
        .where({ id: r.id })
        .update({ secret_hash: await hashSecret(r.token_hash) });
    await knex.schema.alterTable('api_keys', (t) => {
      t.dropUnique(['token_hash'], 'api_keys_token_hash_unique');
      t.dropColumn('token_hash');
    });
  },
  async down(knex: Knex) {
    // The sha256 of the tokens cannot be recovered from their scrypt hashes: every key stops working.
    await knex.schema.alterTable('api_keys', (t) => {
      t.string('token_hash', 64).nullable().collate('ascii_bin').unique('api_keys_token_hash_unique');
    });
    await knex('api_keys').update({ enabled: false, revoked_at: knex.raw('CURRENT_TIMESTAMP(3)') });
    await knex.schema.alterTable('api_keys', (t) => {
      t.dropIndex(['token_prefix'], 'api_keys_token_prefix_idx');
      t.dropColumn('secret_hash');
    });
  },
};
