import type { Knex } from 'knex';
import {
  hashSecret,
  lookupTag,
  openPassword,
  sealPassword,
  secretKeyFromEnv,
  type SecretKey,
} from '@smsfleet/security';
import type { Migration } from './migration.js';

/**
 * Passwords and PINs stop being stored in clear (0001 kept them plain for Mizu's `authmd5`):
 *
 * - `password_hash` / `pin_hash`: scrypt, self-describing (`$scrypt$ln=..,r=..,p=..$salt$hash`);
 * - `password_sealed`: AES-256-GCM under the server key `SMSFLEET_SECRET_KEY`, only because the
 *   challenge-response protocols (Mizu `authmd5`, SIP digest) need the cleartext on the server;
 *   NULL when the server has no key;
 * - `password_tag` / `pin_tag`: HMAC lookup tags under the same key, so the SMS command modes that
 *   identify a user by a PIN or password alone (`callingcardauth`) find the user without a scan.
 *
 * Existing plain values are hashed (sealed and tagged when the key is set in the environment of the
 * migration), then the plain columns are dropped. scrypt costs ~50-100 ms per value: a table of
 * 10,000 users takes a few minutes, four at a time.
 */
async function eachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function secretColumns(
  key: SecretKey | undefined,
  password: string | undefined,
  pin: string | undefined,
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  if (password !== undefined) {
    out['password_hash'] = await hashSecret(password);
    out['password_sealed'] = key && password !== '' ? sealPassword(key, password) : null;
    out['password_tag'] = key && password !== '' ? lookupTag(key, 'password', password) : null;
  }
  if (pin !== undefined) {
    out['pin_hash'] = await hashSecret(pin);
    out['pin_tag'] = key && pin !== '' ? lookupTag(key, 'pin', pin) : null;
  }
  return out;
}

export const m0800: Migration = {
  name: '0800_password_hashes',
  async up(knex: Knex) {
    await knex.schema.alterTable('users', (t) => {
      t.string('password_hash', 255).notNullable().defaultTo('');
      t.string('password_sealed', 512).nullable();
      t.specificType('password_tag', 'CHAR(64)').nullable();
      t.string('pin_hash', 255).notNullable().defaultTo('');
      t.specificType('pin_tag', 'CHAR(64)').nullable();
      t.index(['password_tag'], 'users_password_tag_idx');
      t.index(['pin_tag'], 'users_pin_tag_idx');
    });
    const key = secretKeyFromEnv();
    const rows = (await knex('users')
      .select('id', 'password', 'pin')
      .where('password', '<>', '')
      .orWhere('pin', '<>', '')) as { id: number; password: string; pin: string }[];
    await eachConcurrently(rows, 4, async (r) => {
      await knex('users')
        .where({ id: r.id })
        .update(await secretColumns(key, r.password, r.pin));
    });
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['pin'], 'users_pin_idx');
      t.dropColumn('password');
      t.dropColumn('pin');
    });
  },
  async down(knex: Knex) {
    // The plain columns come back; passwords are restored from their sealed copies when the key
    // is set, PINs cannot be (they were only hashed).
    await knex.schema.alterTable('users', (t) => {
      t.string('password', 128).notNullable().defaultTo('');
      t.string('pin', 64).notNullable().defaultTo('');
      t.index(['pin'], 'users_pin_idx');
    });
    const key = secretKeyFromEnv();
    if (key) {
      const rows = (await knex('users')
        .select('id', 'password_sealed')
        .whereNotNull('password_sealed')
        .andWhere('password_sealed', '<>', '')) as { id: number; password_sealed: string }[];
      for (const r of rows)
        await knex('users')
          .where({ id: r.id })
          .update({ password: openPassword(key, r.password_sealed) });
    }
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['password_tag'], 'users_password_tag_idx');
      t.dropIndex(['pin_tag'], 'users_pin_tag_idx');
      t.dropColumn('password_hash');
      t.dropColumn('password_sealed');
      t.dropColumn('password_tag');
      t.dropColumn('pin_hash');
      t.dropColumn('pin_tag');
    });
  },
};
