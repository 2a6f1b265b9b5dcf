import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_AUTH_BAN, type AuthBanSettings } from './auth-ban-policy.js';
import { AuthGuard, type BanEntry } from './auth-guard.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('AuthGuard (Redis)', () => {
  let redis: Redis;
  const prefix = `t-authban-${randomBytes(4).toString('hex')}`;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  function guard(
    settings: Partial<AuthBanSettings>,
    extra: { now?: () => number; bans?: BanEntry[]; sleeps?: number[] } = {},
  ) {
    const s = { ...DEFAULT_AUTH_BAN, ...settings };
    return new AuthGuard(redis, prefix, {
      settings: () => s,
      now: extra.now,
      onBan: (b) => extra.bans?.push(b),
      sleep: async (ms) => void extra.sleeps?.push(ms),
    });
  }

  test('failures slow down, then ban the address fleet-wide; success does not lift it', async () => {
    const bans: BanEntry[] = [];
    const sleeps: number[] = [];
    const settings = {
      slowAfter: 2,
      delayMs: 100,
      maxDelayMs: 250,
      addressAfter: 4,
      userAfter: 100,
      banSec: 60,
    };
    const a = guard(settings, { bans, sleeps });
    const b = guard(settings); // another replica
    await a.start();
    await b.start();
    const who = { address: '198.51.100.7', user: 'alice' };
    expect(await a.fail(who)).toEqual({ banned: false, delayMs: 0 });
    expect(await a.fail(who)).toEqual({ banned: false, delayMs: 100 });
    expect(await a.fail(who)).toEqual({ banned: false, delayMs: 200 });
    expect(sleeps).toEqual([100, 200]);
    // Slowed on this replica at once, on the other after a refresh.
    expect(a.check(who)).toEqual({ banned: false, delayMs: 200 });
    await b.refresh();
    expect(b.check({ address: '198.51.100.7' })).toEqual({ banned: false, delayMs: 200 });
    expect(await b.admit({ address: '198.51.100.8' })).toEqual({ banned: false, delayMs: 0 });

    const fourth = await a.fail(who);
    expect(fourth).toMatchObject({
      banned: true,
      scope: 'address',
      reason: expect.stringMatching(/^too many failed logins, banned until /),
    });
    expect(bans).toEqual([{ scope: 'address', id: '198.51.100.7', until: expect.any(Number) }]);
    expect(a.check(who).banned).toBe(true);
    // The user name is not banned (its threshold is higher), so the same user elsewhere is fine.
    expect(a.check({ address: '198.51.100.9', user: 'alice' }).banned).toBe(false);
    // Replica b learns the ban from Redis.
    await b.refresh();
    expect(b.check({ address: '::ffff:198.51.100.7' }).banned).toBe(true);
    expect((await a.list()).map((x) => `${x.scope}:${x.id}`)).toEqual(['address:198.51.100.7']);

    // Clearing lifts it everywhere (after the next refresh) and forgets the failures.
    expect(await a.clear({ address: '198.51.100.7' })).toBe(1);
    await b.refresh();
    expect(b.check({ address: who.address })).toEqual({ banned: false, delayMs: 0 });
    expect(await a.fail({ address: who.address })).toEqual({ banned: false, delayMs: 0 });
    // The user name's own failures were not cleared with the address: still slowed.
    expect(b.check(who)).toEqual({ banned: false, delayMs: 250 });
    expect(await a.clear({ user: 'alice' })).toBe(0);
    await b.refresh();
    expect(b.check(who)).toEqual({ banned: false, delayMs: 0 });
    a.stop();
    b.stop();
  });

  test('a user name is banned across addresses; bans and failures expire; clear all', async () => {
    let now = Date.now();
    const g = guard(
      { slowAfter: 0, addressAfter: 0, userAfter: 3, windowSec: 10, banSec: 5 },
      { now: () => now },
    );
    await g.refresh();
    await g.fail({ address: '203.0.113.1', user: 'bob' });
    await g.fail({ address: '203.0.113.2', user: 'bob' });
    // Failures older than the window are forgotten.
    now += 11_000;
    expect((await g.fail({ address: '203.0.113.3', user: 'bob' })).banned).toBe(false);
    await g.fail({ address: '203.0.113.4', user: 'bob' });
    const v = await g.fail({ address: '203.0.113.5', user: 'bob' });
    expect(v).toMatchObject({ banned: true, scope: 'user' });
    expect(g.check({ address: '203.0.113.200', user: 'bob' }).banned).toBe(true);
    expect(g.check({ address: '203.0.113.200', user: 'carol' }).banned).toBe(false);
    now += 5_001;
    await g.refresh();
    expect(g.check({ user: 'bob' }).banned).toBe(false);
    expect(await g.list()).toEqual([]);

    for (let i = 0; i < 3; i++) await g.fail({ user: 'dave' });
    expect((await g.list()).length).toBe(1);
    expect(await g.clear('all')).toBe(1);
    expect(await g.list()).toEqual([]);
    expect(await redis.keys(`${prefix}:authban:f:*`)).toEqual([]);
    expect(g.check({ user: 'dave' }).banned).toBe(false);
  });

  test('ignored addresses are never counted nor banned; their user names are', async () => {
    const g = guard({
      slowAfter: 0,
      addressAfter: 1,
      userAfter: 2,
      ignoreAddresses: '127.0.0.1, 10.0.0.0/8',
    });
    expect(await g.fail({ address: '127.0.0.1' })).toEqual({ banned: false, delayMs: 0 });
    expect(await g.fail({ address: '10.9.9.9', user: 'erin' })).toEqual({ banned: false, delayMs: 0 });
    expect(g.check({ address: '127.0.0.1' }).banned).toBe(false);
    expect(await g.fail({ address: '127.0.0.1', user: 'erin' })).toMatchObject({
      banned: true,
      scope: 'user',
    });
    expect(g.check({ address: '127.0.0.1', user: 'frank' }).banned).toBe(false);
    expect(await g.clear({ user: 'erin' })).toBe(1);
  });

  test('nothing to count without an address or user', async () => {
    const g = guard({});
    expect(await g.fail({})).toEqual({ banned: false, delayMs: 0 });
    expect(g.check({})).toEqual({ banned: false, delayMs: 0 });
  });
});
