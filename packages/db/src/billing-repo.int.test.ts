import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingRepo, type Settlement } from './billing-repo.js';
import type { CdrInsert } from './cdr-repo.js';
import { searchCdrs, cdrsToCsv } from './cdr-search.js';
import { UsersRepo } from './users-repo.js';
import { createTestDb, type TestDb } from '../test/test-db.js';

function item(
  smsid: string,
  userId: number,
  state: string,
  reserved: string,
  over: Partial<CdrInsert> = {},
): Settlement {
  const billed = state === 'delivered' || state === 'unknown';
  return {
    cdr: {
      smsid,
      userId,
      gatewayId: 3,
      caller: '1000',
      callee: '36201234567',
      segments: 1,
      duration: billed ? 60 : 0,
      cost: billed ? reserved : '0',
      state,
      disconnectReason: state,
      clientIp: '10.0.0.1',
      acceptedAt: new Date('2025-01-02T03:04:05.000Z'),
      finalAt: new Date('2025-01-02T03:04:15.000Z'),
      reserved,
      ...over,
    },
    refund: billed ? '0' : reserved,
  };
}

describe('BillingRepo.settle', () => {
  let t: TestDb;
  let users: UsersRepo;
  let alice: number;
  let bob: number;
  beforeAll(async () => {
    t = await createTestDb();
    users = new UsersRepo(t.db);
    // Credit after the API's debits at accept time.
    alice = (await users.create({ name: 'alice', password: 'x', type: 'user', credit: '10' })).id;
    bob = (await users.create({ name: 'bob', password: 'x', type: 'user', credit: '5' })).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refunds failed messages once, keeps billed ones, and ignores every replay, even concurrent ones', async () => {
    const batch: Settlement[] = [];
    for (let i = 0; i < 300; i++) {
      const uid = i % 3 === 0 ? bob : alice;
      batch.push(item(`m${i}`, uid, i % 5 === 0 ? 'failed' : 'delivered', '0.1'));
    }
    // Failed: i % 5 === 0 -> 60 messages; bob has i % 3 === 0 -> failed & bob: i % 15 === 0 -> 20.
    const repo = new BillingRepo(t.db);
    const first = await repo.settle(batch);
    expect(first.inserted).toBe(300);
    expect(first.refundedMessages).toBe(60);
    // Replays: the same batch from two "replicas" at once, and an overlapping batch.
    const again = await Promise.all([
      repo.settle(batch),
      new BillingRepo(t.db).settle(batch.slice(100)),
      repo.settle([...batch.slice(0, 10), item('new1', alice, 'rejected', '0.25')]),
    ]);
    expect(again.map((r) => r.inserted)).toEqual([0, 0, 1]);
    expect((await users.findById(alice))!.credit).toBe(String((10 + 40 * 0.1 + 0.25).toFixed(6)));
    expect((await users.findById(bob))!.credit).toBe(String((5 + 20 * 0.1).toFixed(6)));
    const n = (await t.db('cdr').count({ n: '*' }).first()) as { n: number };
    expect(Number(n.n)).toBe(301);
  });

  it('concurrent settles of the same new smsids: exactly one inserts and refunds', async () => {
    const before = (await users.findById(bob))!.credit;
    const batch = Array.from({ length: 50 }, (_, i) => item(`race${i}`, bob, 'failed', '0.01'));
    const results = await Promise.all(Array.from({ length: 4 }, () => new BillingRepo(t.db).settle(batch)));
    expect(results.reduce((a, r) => a + r.inserted, 0)).toBe(50);
    expect(Number((await users.findById(bob))!.credit) - Number(before)).toBeCloseTo(0.5, 6);
  });

  it('searches CDRs by filters and exports CSV', async () => {
    await new BillingRepo(t.db).settle([
      item('s1', alice, 'delivered', '0.2', { gatewayId: 9, callee: '4477001', comment: 'ok, "fine"' }),
      item('s2', bob, 'failed', '0.2', {
        gatewayId: 9,
        callee: '4477002',
        finalAt: new Date('2025-02-01T00:00:00Z'),
      }),
    ]);
    expect((await searchCdrs(t.db, { gatewayId: 9 })).map((r) => r.smsid)).toEqual(['s2', 's1']);
    expect((await searchCdrs(t.db, { gatewayId: 9, state: 'failed' })).map((r) => r.smsid)).toEqual(['s2']);
    expect((await searchCdrs(t.db, { gatewayId: 9, userId: alice })).map((r) => r.smsid)).toEqual(['s1']);
    expect((await searchCdrs(t.db, { number: '4477*' })).map((r) => r.smsid)).toEqual(['s2', 's1']);
    expect((await searchCdrs(t.db, { number: '4477001' })).map((r) => r.smsid)).toEqual(['s1']);
    expect(
      (await searchCdrs(t.db, { gatewayId: 9, since: new Date('2025-01-15T00:00:00Z') })).map((r) => r.smsid),
    ).toEqual(['s2']);
    expect(
      (await searchCdrs(t.db, { gatewayId: 9, until: new Date('2025-01-15T00:00:00Z') })).map((r) => r.smsid),
    ).toEqual(['s1']);
    const csv = cdrsToCsv(await searchCdrs(t.db, { gatewayId: 9 }));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,type,smsid,user_id,gateway_id/);
    expect(lines).toHaveLength(3);
    expect(csv).toContain('"ok, ""fine"""');
  });
});
