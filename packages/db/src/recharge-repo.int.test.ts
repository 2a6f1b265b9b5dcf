import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { RechargeRepo } from './recharge-repo.js';
import { UsersRepo } from './users-repo.js';

let t: TestDb;
let repo: RechargeRepo;
let users: UsersRepo;

beforeAll(async () => {
  t = await createTestDb();
  repo = new RechargeRepo(t.db);
  users = new UsersRepo(t.db);
}, 60_000);
afterAll(() => t?.close());

describe('RechargeRepo', () => {
  test('a code used twice in parallel credits once, with one audit row', async () => {
    const a = await users.create({ name: 'ra', password: 'x', type: 'user', credit: '1.25' });
    const b = await users.create({ name: 'rb', password: 'x', type: 'user', credit: '0' });
    for (let round = 0; round < 5; round++) {
      const [code] = await repo.create('3.5');
      const results = await Promise.all([
        repo.redeem(code!.code, a.id, `sms-a-${round}`),
        repo.redeem(code!.code, b.id, `sms-b-${round}`),
        repo.redeem(code!.code, a.id, `sms-c-${round}`),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(['used', 'used']);
    }
    const total = Number((await users.findById(a.id))!.credit) + Number((await users.findById(b.id))!.credit);
    expect(total).toBeCloseTo(1.25 + 5 * 3.5, 6);
    const audit = await t.db<{ amount: string; user_id: number }>('credit_audit').select('amount', 'user_id');
    expect(audit).toHaveLength(5);
    expect(audit.every((r) => r.amount === '3.500000')).toBe(true);
  });

  test('unknown code, unknown user, and a replay of the same SMS', async () => {
    const u = await users.create({ name: 'rc', password: 'x', type: 'user', credit: '0' });
    expect(await repo.redeem('000', u.id, 'x')).toEqual({ ok: false, reason: 'unknown' });
    const [code] = await repo.create('1', 1, 10);
    expect(code!.code).toMatch(/^[1-9]\d{9}$/);
    expect(await repo.redeem(code!.code, 999_999, 'sms-1')).toEqual({ ok: false, reason: 'no-user' });
    // The failed attempt rolled back: the code still works.
    const first = await repo.redeem(code!.code, u.id, 'sms-2');
    expect(first).toMatchObject({ ok: true, value: '1.000000', balance: '1.000000' });
    const replay = await repo.redeem(code!.code, u.id, 'sms-2');
    expect(replay).toMatchObject({ ok: true, replay: true });
    expect((await users.findById(u.id))!.credit).toBe('1.000000');
    expect((await repo.list({ unusedOnly: true })).some((c) => c.code === code!.code)).toBe(false);
  });
});
