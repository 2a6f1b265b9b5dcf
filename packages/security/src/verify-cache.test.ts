import { describe, expect, test } from 'vitest';
import { hashSecret } from './password-hash.js';
import { SecretVerifier } from './verify-cache.js';

const FAST = { ln: 10, r: 8, p: 1 };

describe('SecretVerifier', () => {
  test('caches successes for the TTL, never failures, and shares concurrent checks', async () => {
    let now = 1_000;
    let calls = 0;
    const h = await hashSecret('pw', FAST);
    const v = new SecretVerifier({
      ttlMs: 100,
      now: () => now,
      verify: async (s, stored) => {
        calls++;
        return stored === h && s === 'pw';
      },
    });
    expect(await Promise.all([v.verify('user:1', 'pw', h), v.verify('user:1', 'pw', h)])).toEqual([
      true,
      true,
    ]);
    expect(calls).toBe(1);
    expect(await v.verify('user:1', 'pw', h)).toBe(true);
    expect(calls).toBe(1);
    expect(await v.verify('user:1', 'bad', h)).toBe(false);
    expect(await v.verify('user:1', 'bad', h)).toBe(false);
    expect(calls).toBe(3);
    // Another subject is its own entry; so is another stored hash (a changed password).
    expect(await v.verify('user:2', 'pw', h)).toBe(true);
    expect(calls).toBe(4);
    const h2 = await hashSecret('pw', FAST);
    expect(await v.verify('user:1', 'pw', h2)).toBe(false);
    expect(calls).toBe(5);
    now += 101;
    expect(await v.verify('user:1', 'pw', h)).toBe(true);
    expect(calls).toBe(6);
    v.clear();
    expect(v.size).toBe(0);
    expect(await v.verify('user:1', '', h)).toBe(false);
    expect(await v.verify('user:1', 'pw', '')).toBe(false);
    expect(calls).toBe(7 - 1);
  });

  test('checks real scrypt hashes by default and bounds its size', async () => {
    const h = await hashSecret('pw', FAST);
    const v = new SecretVerifier({ maxEntries: 2 });
    expect(await v.verify('a', 'pw', h)).toBe(true);
    expect(await v.verify('a', 'nope', h)).toBe(false);
    await v.verify('b', 'pw', h);
    await v.verify('c', 'pw', h);
    expect(v.size).toBeLessThanOrEqual(2);
    expect(v.slowChecks).toBe(4);
  });
});
