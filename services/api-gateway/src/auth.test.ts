import { describe, expect, test } from 'vitest';
import type { User } from '@smsfleet/db';
import { authenticate, md5Hex, type AuthDeps } from './auth.js';
import { type MizuError } from './mizu-answer.js';

const admin: User = {
  id: 7,
  name: 'boss',
  password: 's3cret',
  type: 'admin',
  enabled: true,
  smsAllowed: true,
  credit: '0',
  creditLimit: '0',
  smsurl: null,
  createdAt: new Date(),
};

function deps(over: Partial<AuthDeps> = {}): AuthDeps {
  const used = new Set<string>();
  return {
    apiv2key: 'KEY123',
    findUser: async (n) => (n === admin.name ? admin : undefined),
    claimSalt: async (id, salt) => {
      const k = `${id}:${salt}`;
      if (used.has(k)) return false;
      used.add(k);
      return true;
    },
    ...over,
  };
}
const p = (o: Record<string, string>) => new Map(Object.entries(o));

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (e) {
    return (e as MizuError).code;
  }
}

describe('authenticate', () => {
  test('authkey gives admin rights', async () => {
    expect(await authenticate(p({ authkey: 'KEY123' }), deps())).toEqual({
      userId: 0,
      name: 'apikey',
      admin: true,
    });
  });
  test('authkey acting for a user', async () => {
    expect((await authenticate(p({ authkey: 'KEY123', authid: 'boss' }), deps())).userId).toBe(7);
  });
  test('authmd5 with a fresh salt, then the same salt again', async () => {
    const d = deps();
    const q = p({ authid: 'boss', authsalt: 'abc', authmd5: md5Hex('boss:s3cret:abc').toUpperCase() });
    expect((await authenticate(q, d)).admin).toBe(true);
    expect(await code(authenticate(q, d))).toBe('AUTH');
  });
  test.each([
    ['wrong key', { authkey: 'nope' }],
    ['key set but server has none', { authkey: 'KEY123', __nokey: '1' }],
    ['nothing', {}],
    ['wrong password', { authid: 'boss', authpwd: 'x' }],
    ['unknown user', { authid: 'ghost', authpwd: 's3cret' }],
    ['md5 without salt', { authid: 'boss', authmd5: md5Hex('boss:s3cret:') }],
    ['wrong md5', { authid: 'boss', authsalt: 'q', authmd5: md5Hex('boss:bad:q') }],
  ])('%s is refused', async (_name, params) => {
    const d = deps('__nokey' in params ? { apiv2key: '' } : {});
    expect(await code(authenticate(p(params as Record<string, string>), d))).toBe('AUTH');
  });
  test('authpwd', async () => {
    expect((await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), deps())).userId).toBe(7);
  });
  test('a disabled user is refused', async () => {
    const d = deps({ findUser: async () => ({ ...admin, enabled: false }) });
    expect(await code(authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d))).toBe('AUTH');
  });
});
