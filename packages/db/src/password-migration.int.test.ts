import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_KEY_ENV, SecretKey, lookupTag, openPassword, verifySecret } from '@smsfleet/security';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { ApiKeysRepo } from './api-keys-repo.js';
import { MIGRATIONS, migrate, rollbackAll } from './migrations.js';
import { RegisteredNumbersRepo } from './registered-numbers-repo.js';
import { UsersRepo } from './users-repo.js';

const KEY_TEXT = 'password-migration-test-key-0123456789';

describe('migrations 0800/0801: plain passwords, pins and sha256 API keys become hashes', () => {
  let t: TestDb;
  beforeAll(async () => {
    process.env[SECRET_KEY_ENV] = KEY_TEXT;
    t = await createTestDb({ migrate: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('hashes (and seals, tags) what was stored in clear, then drops the plain columns', async () => {
    const first = MIGRATIONS.findIndex((m) => m.name.startsWith('0800'));
    await migrate(t.db, { migrations: MIGRATIONS.slice(0, first) });
    // Rows as the old schema stored them.
    await t.db('users').insert([
      { name: 'alice', password: 'alice-secret', type: 'user', pin: '4321' },
      { name: 'bob', password: 'bob-secret', type: 'admin', pin: '' },
      { name: 'gw', password: '', type: 'smsgw', pin: '' },
    ]);
    const alice = (await t.db('users').where({ name: 'alice' }).first()) as { id: number };
    const oldToken = 'sfk_OldTokenWithoutAnIdxxxxxxxxxxxxxxxxxxxxxxxxx';
    await t.db('api_keys').insert({
      user_id: alice.id,
      token_hash: createHash('sha256').update(oldToken).digest('hex'),
      token_prefix: oldToken.slice(0, 10),
    });

    await migrate(t.db);

    const rows = (await t.db('users').select('*').orderBy('id')) as Record<string, unknown>[];
    expect(Object.keys(rows[0]!)).not.toContain('password');
    expect(Object.keys(rows[0]!)).not.toContain('pin');
    const dump = JSON.stringify(rows);
    for (const secret of ['alice-secret', 'bob-secret', '4321']) expect(dump).not.toContain(secret);
    const key = SecretKey.fromText(KEY_TEXT);
    const users = new UsersRepo(t.db, { secretKey: key });
    const a = (await users.findByName('alice'))!;
    expect(await verifySecret('alice-secret', a.passwordHash)).toBe(true);
    expect(openPassword(key, a.passwordSealed!)).toBe('alice-secret');
    expect(rows[0]!['password_tag']).toBe(lookupTag(key, 'password', 'alice-secret'));
    expect(rows[0]!['pin_tag']).toBe(lookupTag(key, 'pin', '4321'));
    expect(await verifySecret('4321', String(rows[0]!['pin_hash']))).toBe(true);
    expect((await users.findByName('gw'))!.passwordHash).toBe('');
    expect((await users.findByName('gw'))!.passwordSealed).toBeNull();

    // The PIN still finds its user through the lookup tag; the old API key still works.
    const numbers = new RegisteredNumbersRepo(t.db, { secretKey: key });
    expect((await numbers.pinCandidates('4321')).map((u) => u.name)).toEqual(['alice']);
    expect((await numbers.pinCandidates('bob-secret')).map((u) => u.name)).toEqual(['bob']);
    expect((await numbers.pinCandidates('0000')).map((u) => u.name)).toEqual([]);
    const keys = new ApiKeysRepo(t.db);
    expect((await keys.findByToken(oldToken))?.userId).toBe(alice.id);
    expect(await keys.findByToken(`${oldToken.slice(0, -1)}y`)).toBeUndefined();
    const apiRows = JSON.stringify(await t.db('api_keys').select('*'));
    expect(apiRows).not.toContain(createHash('sha256').update(oldToken).digest('hex'));

    // setContact hashes a new PIN the same way.
    await numbers.setContact(a.id, { pin: '9999' });
    expect((await numbers.pinCandidates('9999')).map((u) => u.name)).toEqual(['alice']);
    expect(JSON.stringify(await t.db('users').select('*'))).not.toContain('9999"');

    // Down runs cleanly over the converted rows.
    await rollbackAll(t.db);
  });
});
