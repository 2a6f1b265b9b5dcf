import { beforeAll, describe, expect, test } from 'vitest';
import type { User } from '@smsfleet/db';
import {
  DEFAULT_AUTH_BAN,
  SecretKey,
  SecretVerifier,
  hashSecret,
  sealPassword,
  verdictFor,
  type AuthSubject,
  type AuthVerdict,
} from '@smsfleet/security';
import { authenticate, md5Hex, type AuthBan, type AuthDeps } from './auth.js';
import { type MizuError } from './mizu-answer.js';

const KEY = SecretKey.fromText('unit-test-secret-key-0123456789abcdef');

const admin: User = {
  id: 7,
  name: 'boss',
  passwordHash: '',
  passwordSealed: null,
  type: 'admin',
  enabled: true,
  smsAllowed: true,
  credit: '0',
  creditLimit: '0',
  smsurl: null,
  createdAt: new Date(),
};

beforeAll(async () => {
  admin.passwordHash = await hashSecret('s3cret');
  admin.passwordSealed = sealPassword(KEY, 's3cret');
});

/** The ban list's rules over in-memory counts (the Redis store has its own integration test). */
class MemoryBan implements AuthBan {
  readonly failures = new Map<string, number>();
  readonly bannedUntil = new Map<string, number>();
  private state(k: string | undefined) {
    if (!k) return undefined;
    return { failures: this.failures.get(k), bannedUntil: this.bannedUntil.get(k) };
  }
  async admit(s: AuthSubject): Promise<AuthVerdict> {
    return verdictFor(
      this.state(s.address && `a:${s.address}`),
      this.state(s.user && `u:${s.user}`),
      SETTINGS,
      Date.now(),
    );
  }
  async fail(s: AuthSubject): Promise<AuthVerdict> {
    for (const [k, after] of [
      [s.address && `a:${s.address}`, SETTINGS.addressAfter],
      [s.user && `u:${s.user}`, SETTINGS.userAfter],
    ] as const) {
      if (!k) continue;
      const n = (this.failures.get(k) ?? 0) + 1;
      this.failures.set(k, n);
      if (n >= after) this.bannedUntil.set(k, Date.now() + 60_000);
    }
    return this.admit(s);
  }
}
const SETTINGS = { ...DEFAULT_AUTH_BAN, slowAfter: 0, addressAfter: 3, userAfter: 5 };

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
    verifier: new SecretVerifier(),
    secretKey: KEY,
    guard: undefined,
    clientIp: '192.0.2.1',
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
  test("authkey with asuser=1 acts as the user with the user's own rights", async () => {
    const plain: User = { ...admin, id: 9, name: 'carol', type: 'user' };
    const d = deps({ findUser: async (n) => (n === 'carol' ? plain : n === 'boss' ? admin : undefined) });
    expect(await authenticate(p({ authkey: 'KEY123', authid: 'carol', asuser: '1' }), d)).toEqual({
      userId: 9,
      name: 'carol',
      admin: false,
    });
    // Without asuser the key holder keeps its admin rights while acting for the user.
    expect((await authenticate(p({ authkey: 'KEY123', authid: 'carol' }), d)).admin).toBe(true);
    expect((await authenticate(p({ authkey: 'KEY123', authid: 'carol', asuser: '0' }), d)).admin).toBe(true);
    // An admin user stays an admin.
    expect((await authenticate(p({ authkey: 'KEY123', authid: 'boss', asuser: '1' }), d)).admin).toBe(true);
    // A wrong key, an unknown or disabled user, or a bad flag value are refused.
    expect(await code(authenticate(p({ authkey: 'nope', authid: 'carol', asuser: '1' }), d))).toBe('AUTH');
    expect(await code(authenticate(p({ authkey: 'KEY123', authid: 'ghost', asuser: '1' }), d))).toBe(
      'USER_NOT_FOUND',
    );
    expect(await code(authenticate(p({ authkey: 'KEY123', authid: 'carol', asuser: 'yes' }), d))).toBe(
      'BAD_REQUEST',
    );
    const off = deps({ findUser: async () => ({ ...plain, enabled: false }) });
    expect(await code(authenticate(p({ authkey: 'KEY123', authid: 'carol', asuser: '1' }), off))).toBe(
      'AUTH',
    );
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
  test('authpwd is checked against the scrypt hash, and a repeat is served from the cache', async () => {
    const verifier = new SecretVerifier();
    const d = deps({ verifier });
    expect(admin.passwordHash).toMatch(/^\$scrypt\$ln=\d+,r=8,p=1\$/);
    expect(admin.passwordHash).not.toContain('s3cret');
    await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d);
    await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d);
    expect(verifier.slowChecks).toBe(1);
    // A new password (new hash) is not served from the old entry.
    const changed = { ...admin, passwordHash: await hashSecret('other') };
    const d2 = deps({ verifier, findUser: async () => changed });
    expect(await code(authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d2))).toBe('AUTH');
    expect((await authenticate(p({ authid: 'boss', authpwd: 'other' }), d2)).userId).toBe(7);
  });
  test('authmd5 without a server key, or for a password stored without a sealed copy, says why', async () => {
    const q = p({ authid: 'boss', authsalt: 's1', authmd5: md5Hex('boss:s3cret:s1') });
    const e1 = await authenticate(q, deps({ secretKey: undefined })).catch((e: unknown) => e as MizuError);
    expect((e1 as MizuError).code).toBe('FAILED');
    expect((e1 as MizuError).message).toContain('no secret key');
    const unsealed = { ...admin, passwordSealed: null };
    const e2 = await authenticate(q, deps({ findUser: async () => unsealed })).catch(
      (e: unknown) => e as MizuError,
    );
    expect((e2 as MizuError).message).toContain('set it again');
    // Sealed under another key: the same clear answer, never a crash.
    const other = { ...admin, passwordSealed: sealPassword(SecretKey.fromText('x'.repeat(40)), 's3cret') };
    const e3 = await authenticate(q, deps({ findUser: async () => other })).catch(
      (e: unknown) => e as MizuError,
    );
    expect((e3 as MizuError).code).toBe('FAILED');
  });
  test('repeated failures ban the address; then even the right password is refused', async () => {
    const guard = new MemoryBan();
    const d = deps({ guard });
    for (let i = 0; i < 2; i++)
      expect(await code(authenticate(p({ authid: 'boss', authpwd: `bad${i}` }), d))).toBe('AUTH');
    const third = await authenticate(p({ authid: 'boss', authpwd: 'bad2' }), d).catch(
      (e: unknown) => e as MizuError,
    );
    expect((third as MizuError).message).toMatch(/too many failed logins, banned until \d{4}-/);
    const right = await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d).catch(
      (e: unknown) => e as MizuError,
    );
    expect((right as MizuError).code).toBe('AUTH');
    expect((right as MizuError).message).toContain('banned until');
    // The server key from the banned address is refused too; another address is not banned.
    expect(await code(authenticate(p({ authkey: 'KEY123' }), d))).toBe('AUTH');
    expect(
      (await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), { ...d, clientIp: '192.0.2.9' })).userId,
    ).toBe(7);
    // A wrong server key counts for the address only.
    const g2 = new MemoryBan();
    await code(authenticate(p({ authkey: 'nope', authid: 'boss' }), deps({ guard: g2 })));
    expect([...g2.failures.keys()]).toEqual(['a:192.0.2.1']);
  });
  test('a success does not reset the failures that lead to a ban', async () => {
    const guard = new MemoryBan();
    const d = deps({ guard });
    await code(authenticate(p({ authid: 'boss', authpwd: 'x1' }), d));
    await authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d);
    await code(authenticate(p({ authid: 'boss', authpwd: 'x2' }), d));
    await code(authenticate(p({ authid: 'boss', authpwd: 'x3' }), d));
    expect(await code(authenticate(p({ authid: 'boss', authpwd: 's3cret' }), d))).toBe('AUTH');
  });
});
