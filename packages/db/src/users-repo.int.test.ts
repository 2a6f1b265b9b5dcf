import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretKey, isSecretHash, lookupTag, openPassword, verifySecret } from '@smsfleet/security';
import { DbError } from './errors.js';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { UsersRepo } from './users-repo.js';

const KEY = SecretKey.fromText('users-repo-test-key-0123456789abcdef');

describe('UsersRepo', () => {
  let t: TestDb;
  let users: UsersRepo;
  beforeAll(async () => {
    t = await createTestDb();
    users = new UsersRepo(t.db, { secretKey: KEY });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a user with defaults and reads it back by id and name', async () => {
    const u = await users.create({ name: 'alice', password: 'pässwörd', type: 'user' });
    expect(u).toEqual({
      id: expect.any(Number),
      name: 'alice',
      passwordHash: expect.stringMatching(/^\$scrypt\$/),
      passwordSealed: expect.stringMatching(/^g1\./),
      type: 'user',
      enabled: true,
      smsAllowed: true,
      credit: '0.000000',
      creditLimit: '0.000000',
      smsurl: null,
      createdAt: expect.any(Date),
    });
    expect(Math.abs(u.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await users.findById(u.id)).toEqual(u);
    expect(await users.findByName('alice')).toEqual(u);
    expect(await users.findByName('nobody')).toBeUndefined();
    expect(await users.findById(999_999)).toBeUndefined();
    expect(await verifySecret('pässwörd', u.passwordHash)).toBe(true);
    expect(await verifySecret('passwörd', u.passwordHash)).toBe(false);
    expect(openPassword(KEY, u.passwordSealed!)).toBe('pässwörd');
  });

  it('stores no password in clear: hash, sealed copy and lookup tag only', async () => {
    const u = await users.create({ name: 'dave', password: 'correct horse battery', type: 'user' });
    const row = (await t.db('users').where({ id: u.id }).first()) as Record<string, unknown>;
    expect(Object.keys(row)).not.toContain('password');
    expect(JSON.stringify(row)).not.toContain('correct horse');
    expect(isSecretHash(String(row['password_hash']))).toBe(true);
    expect(row['password_tag']).toBe(lookupTag(KEY, 'password', 'correct horse battery'));
    // A new password replaces all three.
    expect(await users.setPassword(u.id, 'new one')).toBe(true);
    const after = (await users.findById(u.id))!;
    expect(after.passwordHash).not.toBe(u.passwordHash);
    expect(await verifySecret('new one', after.passwordHash)).toBe(true);
    expect(await verifySecret('correct horse battery', after.passwordHash)).toBe(false);
    expect(openPassword(KEY, after.passwordSealed!)).toBe('new one');
    expect(await users.setPassword(999_999, 'x')).toBe(false);
    // Without a server key: hashed only, no sealed copy, no tag.
    const plain = await new UsersRepo(t.db, { secretKey: null }).create({
      name: 'erin',
      password: 'pw',
      type: 'user',
    });
    expect(plain.passwordSealed).toBeNull();
    const erin = (await t.db('users').where({ id: plain.id }).first()) as Record<string, unknown>;
    expect(erin['password_tag']).toBeNull();
    await new UsersRepo(t.db, { secretKey: null }).setPassword(plain.id, '');
    expect((await users.findById(plain.id))!.passwordHash).toBe('');
    await t.db('users').whereIn('name', ['dave', 'erin']).delete();
  });

  it('keeps exact decimals and explicit flags', async () => {
    const u = await users.create({
      name: 'bob',
      password: 'x',
      type: 'admin',
      credit: '12.345678',
      creditLimit: '-5.5',
      enabled: false,
      smsAllowed: false,
    });
    expect(u).toMatchObject({
      credit: '12.345678',
      creditLimit: '-5.500000',
      enabled: false,
      smsAllowed: false,
    });
    expect(await users.setCredit(u.id, '0.100001')).toBe(true);
    expect((await users.findById(u.id))?.credit).toBe('0.100001');
    expect(await users.setCredit(999_999, '1')).toBe(false);
  });

  it('refuses a duplicate name with code DUPLICATE', async () => {
    await users.create({ name: 'carol', password: 'x', type: 'user' });
    const err = await users.create({ name: 'carol', password: 'y', type: 'user' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toBe('DUPLICATE');
  });

  it('lists by type and lists SMS gateways with their URL', async () => {
    const gw = await users.create({
      name: 'gw1',
      password: 'x',
      type: 'smsgw',
      smsurl: 'SMPP;server=1.2.3.4',
    });
    expect(gw.smsurl).toBe('SMPP;server=1.2.3.4');
    expect((await users.listGateways()).map((u) => u.name)).toEqual(['gw1']);
    expect((await users.list({ type: 'admin' })).map((u) => u.name)).toEqual(['bob']);
    expect((await users.list()).map((u) => u.name)).toEqual(['alice', 'bob', 'carol', 'gw1']);
  });
});
