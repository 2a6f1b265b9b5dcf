import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { CreditHoldsRepo } from './credit-holds-repo.js';
import { UsersRepo } from './users-repo.js';

describe('credit holds: a reservation and its messages, rolled forward after a crash', () => {
  let t: TestDb;
  let holds: CreditHoldsRepo;
  let userId: number;
  const credit = async () =>
    ((await t.db('users').select('credit').where({ id: userId }).first()) as { credit: string }).credit;

  beforeAll(async () => {
    t = await createTestDb();
    holds = new CreditHoldsRepo(t.db);
    userId = (await new UsersRepo(t.db).create({ name: 'h', password: 'x', type: 'user', credit: '1' })).id;
  });
  afterAll(() => t.close());

  test('reserve debits and records the messages; not enough credit writes nothing', async () => {
    expect(
      await holds.reserve({ token: 'a', userId, total: '0.3', bonus: '0', messages: [{ smsid: 'a' }] }),
    ).toBe(true);
    expect(await credit()).toBe('0.700000');
    expect(
      await holds.reserve({ token: 'b', userId, total: '0.8', bonus: '0', messages: [{ smsid: 'b' }] }),
    ).toBe(false);
    expect(await credit()).toBe('0.700000');
    expect(await holds.count()).toBe(1);
  });

  test('release deletes; cancel gives the credit back once, even when called twice', async () => {
    await holds.release(['a']);
    expect(await holds.count()).toBe(0);
    await holds.reserve({ token: 'c', userId, total: '0.2', bonus: '0', messages: [{ smsid: 'c' }] });
    expect(await credit()).toBe('0.500000');
    await holds.cancel('c', userId, '0.2');
    await holds.cancel('c', userId, '0.2');
    expect(await credit()).toBe('0.700000');
  });

  test('reserveMany: one transaction for many requests; per user the sum, else each in order', async () => {
    const users = new UsersRepo(t.db);
    const rich = (await users.create({ name: 'm1', password: 'x', type: 'user', credit: '10' })).id;
    const poor = (await users.create({ name: 'm2', password: 'x', type: 'user', credit: '1' })).id;
    const creditOf = async (id: number) =>
      ((await t.db('users').select('credit').where({ id }).first()) as { credit: string }).credit;
    const before = await holds.count();
    const req = (token: string, uid: number, total: string, bonus = '0') => ({
      token,
      userId: uid,
      total,
      bonus,
      messages: [{ smsid: token }],
    });
    // rich: the sum (3.5) fits, one statement; poor: 0.6 + 0.6 > 1, so the first fits and the
    // second does not, and a later 0.3 still fits after it.
    const ok = await holds.reserveMany([
      req('m-a', poor, '0.6'),
      req('m-b', rich, '1.5', '0.5'),
      req('m-c', poor, '0.6'),
      req('m-d', rich, '2'),
      req('m-e', poor, '0.3'),
    ]);
    expect(ok).toEqual([true, true, false, true, true]);
    expect(await creditOf(rich)).toBe('7.000000');
    expect(await creditOf(poor)).toBe('0.100000');
    expect(await holds.count()).toBe(before + 4);
    const rows = (await t
      .db('credit_holds')
      .select('token', 'amount', 'messages')
      .whereIn('token', ['m-a', 'm-b', 'm-c', 'm-d', 'm-e'])
      .orderBy('token')) as { token: string; amount: string; messages: string }[];
    expect(rows.map((r) => [r.token, r.amount])).toEqual([
      ['m-a', '0.600000'],
      ['m-b', '1.000000'],
      ['m-d', '2.000000'],
      ['m-e', '0.300000'],
    ]);
    expect(JSON.parse(rows[1]!.messages)).toEqual([{ smsid: 'm-b' }]);
    await holds.release(['m-a', 'm-b', 'm-d', 'm-e']);
    expect(await holds.count()).toBe(before);
  });

  test('recover hands old holds to requeue once, across concurrent recoverers, and leaves young ones', async () => {
    for (const token of ['d', 'e', 'f'])
      await holds.reserve({ token, userId, total: '0.1', bonus: '0', messages: [{ smsid: token }] });
    await t
      .db('credit_holds')
      .whereIn('token', ['d', 'e'])
      .update({ created_at: new Date(Date.now() - 60_000) });
    const seen: string[] = [];
    const requeue = async (h: { messages: { smsid: string }[] }) => {
      await new Promise((r) => setTimeout(r, 20));
      seen.push(...h.messages.map((m) => m.smsid));
    };
    const cutoff = new Date(Date.now() - 30_000);
    const [n1, n2] = await Promise.all([
      holds.recover(cutoff, 10, requeue),
      holds.recover(cutoff, 10, requeue),
    ]);
    expect(n1 + n2).toBe(2);
    expect(seen.sort()).toEqual(['d', 'e']);
    expect(await holds.count()).toBe(1);
    // A failing requeue leaves the hold for the next round.
    await t
      .db('credit_holds')
      .where({ token: 'f' })
      .update({ created_at: new Date(Date.now() - 60_000) });
    await expect(holds.recover(cutoff, 10, () => Promise.reject(new Error('redis down')))).rejects.toThrow(
      'redis down',
    );
    expect(await holds.count()).toBe(1);
    // Credit: 0.7 - 3 x 0.1, never given back by a recovery (the messages are billed instead).
    expect(await credit()).toBe('0.400000');
  });
});
