import { describe, expect, test } from 'vitest';
import {
  DEFAULT_AUTH_BAN,
  authBanSettingsFrom,
  delayFor,
  isIgnoredAddress,
  memberOf,
  normalizeAddress,
  parseMember,
  verdictFor,
} from './auth-ban-policy.js';

const S = { ...DEFAULT_AUTH_BAN, slowAfter: 3, delayMs: 200, maxDelayMs: 700 };

describe('ban policy', () => {
  test('delay grows per failure past slowAfter, up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => delayFor(n, S))).toEqual([0, 0, 0, 200, 400, 600, 700, 700]);
    expect(delayFor(100, { ...S, slowAfter: 0 })).toBe(0);
  });

  test('a ban of the address or the user wins; expired bans do not count', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const v = verdictFor({ bannedUntil: now + 1000 }, undefined, S, now);
    expect(v).toEqual({
      banned: true,
      scope: 'address',
      until: now + 1000,
      reason: 'too many failed logins, banned until 2026-01-01T00:00:01.000Z',
    });
    expect(verdictFor(undefined, { bannedUntil: now + 5 }, S, now)).toMatchObject({
      banned: true,
      scope: 'user',
    });
    expect(verdictFor({ bannedUntil: now }, { failures: 4 }, S, now)).toEqual({
      banned: false,
      delayMs: 400,
    });
    expect(verdictFor({ failures: 5 }, { failures: 3 }, S, now)).toEqual({ banned: false, delayMs: 600 });
    expect(verdictFor(undefined, undefined, S, now)).toEqual({ banned: false, delayMs: 0 });
  });

  test('addresses and members', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress(' 2001:DB8::1 ')).toBe('2001:db8::1');
    expect(normalizeAddress(undefined)).toBe('');
    expect(parseMember(memberOf('address', '2001:db8::1'))).toEqual({ scope: 'address', id: '2001:db8::1' });
    expect(parseMember(memberOf('user', 'a:b'))).toEqual({ scope: 'user', id: 'a:b' });
    expect(parseMember('x:1')).toBeUndefined();
  });

  test('settings from the authban_* config keys', () => {
    expect(
      authBanSettingsFrom({
        authban_window: 60,
        authban_slowafter: 2,
        authban_delayms: 10,
        authban_maxdelayms: 20,
        authban_addressafter: 5,
        authban_userafter: 6,
        authban_time: 30,
        authban_ignoreip: '10.0.0.0/8',
      }),
    ).toEqual({
      windowSec: 60,
      slowAfter: 2,
      delayMs: 10,
      maxDelayMs: 20,
      addressAfter: 5,
      userAfter: 6,
      banSec: 30,
      ignoreAddresses: '10.0.0.0/8',
    });
  });

  test('ignored addresses: a list of addresses and ranges; empty ignores nobody', () => {
    expect(isIgnoredAddress('127.0.0.1', DEFAULT_AUTH_BAN.ignoreAddresses)).toBe(true);
    expect(isIgnoredAddress('::1', DEFAULT_AUTH_BAN.ignoreAddresses)).toBe(true);
    expect(isIgnoredAddress('::ffff:127.0.0.1', DEFAULT_AUTH_BAN.ignoreAddresses)).toBe(true);
    expect(isIgnoredAddress('127.0.0.2', DEFAULT_AUTH_BAN.ignoreAddresses)).toBe(false);
    expect(isIgnoredAddress('10.2.3.4', '10.0.0.0/8; 192.0.2.1')).toBe(true);
    expect(isIgnoredAddress('11.2.3.4', '10.0.0.0/8; 192.0.2.1')).toBe(false);
    expect(isIgnoredAddress('127.0.0.1', '')).toBe(false);
    expect(isIgnoredAddress('127.0.0.1', 'not-an-address')).toBe(false);
    expect(isIgnoredAddress('', '0.0.0.0/0')).toBe(false);
  });
});
