import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbError } from './errors.js';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { UsersRepo } from './users-repo.js';

describe('UsersRepo', () => {
  let t: TestDb;
  let users: UsersRepo;
  beforeAll(async () => {
    t = await createTestDb();
    users = new UsersRepo(t.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a user with defaults and reads it back by id and name', async () => {
    const u = await users.create({ name: 'alice', password: 'pässwörd', type: 'user' });
    expect(u).toEqual({
      id: expect.any(Number),
      name: 'alice',
      password: 'pässwörd',
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
