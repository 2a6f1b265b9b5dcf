import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CdrRepo, type CdrInsert } from './cdr-repo.js';
import { DbError } from './errors.js';
import { createTestDb, type TestDb } from '../test/test-db.js';

function cdr(smsid: string, over: Partial<CdrInsert> = {}): CdrInsert {
  return {
    smsid,
    userId: 7,
    gatewayId: 3,
    caller: '3611111111',
    callee: '3622222222',
    segments: 1,
    duration: 60,
    cost: '0.015000',
    state: 'delivered',
    disconnectReason: '',
    clientIp: '10.0.0.1',
    acceptedAt: new Date('2025-01-02T03:04:05.123Z'),
    submittedAt: new Date('2025-01-02T03:04:05.456Z'),
    finalAt: new Date('2025-01-02T03:04:15.789Z'),
    ...over,
  };
}

describe('CdrRepo', () => {
  let t: TestDb;
  let cdrs: CdrRepo;
  beforeAll(async () => {
    t = await createTestDb();
    cdrs = new CdrRepo(t.db);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.db('cdr').truncate();
  });

  it('round-trips a CDR exactly (millisecond UTC dates, decimal cost, nullable fields)', async () => {
    expect(
      await cdrs.insertBatch([
        cdr('m1', { comment: 'ok', providerMsgid: 'P-1' }),
        cdr('m2', { submittedAt: null, state: 'failed', duration: 0, cost: '0' }),
      ]),
    ).toBe(2);
    const m1 = await cdrs.findBySmsid('m1');
    expect(m1).toMatchObject({
      smsid: 'm1',
      type: 'SMS',
      userId: 7,
      gatewayId: 3,
      caller: '3611111111',
      callee: '3622222222',
      segments: 1,
      duration: 60,
      cost: '0.015000',
      state: 'delivered',
      comment: 'ok',
      providerMsgid: 'P-1',
      clientIp: '10.0.0.1',
      acceptedAt: new Date('2025-01-02T03:04:05.123Z'),
      submittedAt: new Date('2025-01-02T03:04:05.456Z'),
      finalAt: new Date('2025-01-02T03:04:15.789Z'),
    });
    expect(m1?.createdAt).toBeInstanceOf(Date);
    expect(await cdrs.findBySmsid('m2')).toMatchObject({
      submittedAt: null,
      comment: null,
      providerMsgid: null,
      cost: '0.000000',
    });
    expect(await cdrs.findBySmsid('nope')).toBeUndefined();
  });

  it('is idempotent on smsid: a second insert of the same smsid is a no-op', async () => {
    expect(await cdrs.insertBatch([cdr('a'), cdr('b')])).toBe(2);
    expect(await cdrs.insertBatch([cdr('a', { state: 'undelivered' }), cdr('b'), cdr('c')])).toBe(1);
    expect(await cdrs.insertBatch([cdr('d'), cdr('d')])).toBe(1);
    expect(await cdrs.count()).toBe(4);
    expect((await cdrs.findBySmsid('a'))?.state).toBe('delivered');
    expect(await cdrs.insertBatch([])).toBe(0);
  });

  it('compares smsids exactly (case matters) and refuses ids it could not store exactly', async () => {
    expect(await cdrs.insertBatch([cdr('AbC'), cdr('abc')])).toBe(2);
    for (const bad of ['', 'x'.repeat(41), 'has space', 'é']) {
      await expect(cdrs.insertBatch([cdr(bad)])).rejects.toBeInstanceOf(DbError);
    }
  });

  it('inserts 2,000 rows (two chunks) and counts them by smsid', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => cdr(`bulk-${i}`, { userId: i % 2 }));
    expect(await cdrs.insertBatch(rows)).toBe(2000);
    expect(await cdrs.count()).toBe(2000);
    expect(await cdrs.insertBatch(rows)).toBe(0);
    expect(await cdrs.countBySmsids(rows.map((r) => r.smsid))).toBe(2000);
    expect(await cdrs.countBySmsids(['bulk-1', 'bulk-1', 'missing'])).toBe(1);
    expect(await cdrs.countBySmsids([])).toBe(0);
  });

  it('takes part in a caller transaction and rolls back with it', async () => {
    await t.db
      .transaction(async (trx) => {
        expect(await cdrs.insertBatch([cdr('tx1')], trx)).toBe(1);
        throw new Error('abort');
      })
      .catch(() => undefined);
    expect(await cdrs.count()).toBe(0);
    await t.db.transaction(async (trx) => {
      expect(await cdrs.insertBatch([cdr('tx2')], trx)).toBe(1);
    });
    expect(await cdrs.count()).toBe(1);
  });

  it('lists newest first, filters by user, follows with afterId and pages with beforeId', async () => {
    await cdrs.insertBatch(Array.from({ length: 10 }, (_, i) => cdr(`l${i}`, { userId: i < 5 ? 1 : 2 })));
    const all = await cdrs.list();
    expect(all.map((c) => c.smsid)).toEqual(['l9', 'l8', 'l7', 'l6', 'l5', 'l4', 'l3', 'l2', 'l1', 'l0']);
    expect((await cdrs.list({ limit: 3 })).map((c) => c.smsid)).toEqual(['l9', 'l8', 'l7']);
    expect((await cdrs.list({ userId: 1, limit: 2 })).map((c) => c.smsid)).toEqual(['l4', 'l3']);
    const l7 = all.find((c) => c.smsid === 'l7');
    expect((await cdrs.list({ afterId: l7!.id })).map((c) => c.smsid)).toEqual(['l9', 'l8']);
    expect((await cdrs.list({ beforeId: l7!.id, limit: 2 })).map((c) => c.smsid)).toEqual(['l6', 'l5']);
  });

  it('cuts an over-long disconnect reason to the column size', async () => {
    await cdrs.insertBatch([cdr('long', { disconnectReason: 'r'.repeat(400) })]);
    expect((await cdrs.findBySmsid('long'))?.disconnectReason).toHaveLength(255);
  });
});
