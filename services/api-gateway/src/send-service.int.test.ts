import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultSnapshot, type ConfigSnapshot } from '@smsfleet/config';
import { multiplyDecimal, type OutboundSms } from '@smsfleet/core';
import { UsersRepo } from '@smsfleet/db';
import { createLogger } from '@smsfleet/runtime';
import { createTestDb, type TestDb } from '../../../packages/db/test/test-db.js';
import type { ApiContext } from './api-context.js';
import { SendError, SendService } from './send-service.js';
import { UserCache } from './user-cache.js';

/**
 * SendService's credit rules against a real MariaDB, with the queue replaced by a pipeline that
 * works or fails on demand (the one way to make "queueing failed after the reservation" happen).
 */
describe('SendService credit reservation', () => {
  let t: TestDb;
  let users: UsersRepo;
  let userId = 0;
  const queued: OutboundSms[] = [];
  let queueDown = false;
  let service: SendService;
  const cfg: ConfigSnapshot = { ...defaultSnapshot(), smsprice: '0.1' };

  beforeAll(async () => {
    t = await createTestDb();
    users = new UsersRepo(t.db);
    userId = (await users.create({ name: 'u', password: 'p', type: 'user', credit: '1' })).id;
    const enqueue = (msgs: OutboundSms[]) => {
      if (queueDown) return Promise.reject(new Error('redis is down'));
      queued.push(...msgs);
      return Promise.resolve();
    };
    const ctx = {
      db: t.db,
      users,
      log: createLogger('test', 'silent'),
      config: { current: () => cfg },
      userCache: new UserCache((n) => users.findByName(n)),
      chooseGateway: () => ({ id: 9, name: 'gw' }),
      rate: (c: ConfigSnapshot, m: { segments: number }) => multiplyDecimal(c.smsprice, m.segments),
      pipeline: {
        accept: (m: OutboundSms) => enqueue([m]),
        acceptMany: enqueue,
        drain: () => Promise.resolve(),
      },
    } as unknown as ApiContext;
    service = new SendService(ctx);
  });
  afterAll(() => t?.close());

  const send = (n: number) =>
    service.send({
      principal: { userId, name: 'u', admin: false },
      recipients: Array.from({ length: n }, (_, i) => `3620600000${i}`),
      text: 'hello',
    });
  const credit = async () => (await users.findById(userId))!.credit;

  test('exact decimals: three messages at 0.1 reserve 0.3, each message carries its 0.1', async () => {
    const r = await send(3);
    expect(r.reserved).toBe('0.3');
    expect(queued.map((m) => m.reserved)).toEqual(['0.1', '0.1', '0.1']);
    expect(await credit()).toBe('0.700000');
  });

  test('queueing fails after the reservation: the credit comes back, the caller gets UNAVAILABLE', async () => {
    queueDown = true;
    await expect(send(2)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    queueDown = false;
    expect(await credit()).toBe('0.700000');
  });

  test('the limit is compared exactly: 1.0 - 0.9 reaches a 0.1 limit (false in floating point)', async () => {
    const id = (
      await users.create({ name: 'b', password: 'p', type: 'user', credit: '1', creditLimit: '0.1' })
    ).id;
    const r = await service.send({
      principal: { userId: id, name: 'b', admin: false },
      recipients: ['36206000099'],
      text: 'edge',
      cfg: { ...cfg, smsprice: '0.9' },
    });
    expect(r.reserved).toBe('0.9');
    expect((await users.findById(id))!.credit).toBe('0.100000');
  });

  test('a request the credit does not cover is refused whole', async () => {
    const n = queued.length;
    const err = await send(8).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendError);
    expect(err).toMatchObject({ code: 'NO_CREDIT' });
    expect(queued).toHaveLength(n);
    expect(await credit()).toBe('0.700000');
    await send(7);
    expect(await credit()).toBe('0.000000');
  });
});
