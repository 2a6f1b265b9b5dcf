import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiKeysRepo } from '@smsfleet/db';
import { AuthGuard } from '@smsfleet/security';
import { md5Hex } from './auth.js';
import { apiFixture, type ApiApp } from '../test/api-fixture.js';

/**
 * Hashed passwords and the failed-authentication ban list through the real api-gateway (in-process)
 * on real Redis and MariaDB: the Mizu API (authpwd, authmd5 from the sealed copy), /v1 bearer keys
 * and the portal login; bans seen and lifted through the Redis ban list the CLI uses.
 */
const fx = apiFixture({ tag: 'ban' });
const { infra, sfx } = fx;
process.env.SMSFLEET_SECRET_KEY ??= `auth-ban-test-secret-${sfx}-0123456789`;
const KEY = `key-${sfx}`;

let guard: AuthGuard;
let token = '';
let app: ApiApp | undefined;
const base = () => `http://127.0.0.1:${app!.port}`;

async function mizu(params: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(
    `${base()}/mvapireq/?${new URLSearchParams({ apientry: 'sendsms', bnum: '36201234567', message: 'hi', ...params }).toString()}`,
  );
  return { status: res.status, body: await res.text() };
}

/** Lifts every ban, then waits for the api-gateway's copy of the ban list to refresh (1 s). */
async function clearAll(): Promise<void> {
  await guard.clear('all');
  await new Promise((r) => setTimeout(r, 1200));
}

async function waitUnbanned(params: Record<string, string>): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    const r = await mizu(params);
    if (!r.body.includes('banned') || Date.now() > until) return r.body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await fx.start();
  const users = fx.users;
  await users.create({ name: 'gw', password: '', type: 'smsgw', smsurl: 'http://127.0.0.1:9/x' });
  const alice = await users.create({ name: 'alice', password: 'alice-pw', type: 'user', credit: '10' });
  ({ token } = await new ApiKeysRepo(fx.db).create(alice.id, 'test'));
  await fx.setConfig({
    apiv2key: KEY,
    httpstrictresponse: 'true',
    // Tests call from 127.0.0.1, which is ignored by default.
    authban_ignoreip: '',
    authban_slowafter: '0',
    authban_addressafter: '3',
    authban_userafter: '100',
    authban_time: '600',
  });
  app = await fx.startApp();
  guard = new AuthGuard(fx.redis, infra.queuePrefix);
}, 60_000);

afterAll(() => fx.close(), 60_000);

describe('hashed credentials and the ban list through the api-gateway', () => {
  test('authpwd and authmd5 work against the hash and the sealed copy; nothing plain is stored', async () => {
    expect((await mizu({ authid: 'alice', authpwd: 'alice-pw' })).body).toMatch(/^OK /);
    const salt = randomBytes(6).toString('hex');
    const r = await mizu({ authid: 'alice', authsalt: salt, authmd5: md5Hex(`alice:alice-pw:${salt}`) });
    expect(r.body).toMatch(/^OK /);
    const rows = JSON.stringify(await fx.db('users').select('*'));
    expect(rows).not.toContain('alice-pw');
    // A /v1 key works, and the database holds no trace of the token.
    const v1 = await fetch(`${base()}/v1/cdrs`, { headers: { authorization: `Bearer ${token}` } });
    expect(v1.status).toBe(200);
    expect(JSON.stringify(await fx.db('api_keys').select('*'))).not.toContain(token.split('.')[1]);
    await guard.clear('all');
  });

  test('Mizu API: wrong passwords ban the address (403 + reason); the right one is refused too; clear lifts it', async () => {
    await clearAll();
    expect(await mizu({ authid: 'alice', authpwd: 'wrong1' })).toEqual({
      status: 403,
      body: 'ERROR authentication failed',
    });
    await mizu({ authid: 'alice', authpwd: 'wrong2' });
    const third = await mizu({ authid: 'alice', authpwd: 'wrong3' });
    expect(third.status).toBe(403);
    expect(third.body).toMatch(/^ERROR too many failed logins, banned until \d{4}-\d\d-\d\dT/);
    const right = await mizu({ authid: 'alice', authpwd: 'alice-pw' });
    expect(right.status).toBe(403);
    expect(right.body).toMatch(/banned until/);
    // Even the server key is refused from a banned address.
    expect((await mizu({ apientry: 'asendsms', authkey: KEY })).body).toMatch(/banned until/);
    expect((await guard.list()).map((b) => `${b.scope}:${b.id}`)).toEqual(['address:127.0.0.1']);
    const metrics = await (await fetch(`${base()}/metrics`)).text();
    expect(metrics).toMatch(/smsfleet_auth_bans_total\{[^}]*kind="address"[^}]*\} 1/);
    expect(metrics).toMatch(/smsfleet_auth_failures_total(\{[^}]*\})? 3/);
    expect(await guard.clear({ address: '127.0.0.1' })).toBe(1);
    expect(await waitUnbanned({ authid: 'alice', authpwd: 'alice-pw' })).toMatch(/^OK /);
  });

  test('/v1: wrong bearer keys end in a 429 problem while banned', async () => {
    await clearAll();
    const statuses: number[] = [];
    let last: { type?: string; detail?: string } = {};
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${base()}/v1/cdrs`, {
        headers: { authorization: `Bearer sfk_1.${'x'.repeat(43)}` },
      });
      statuses.push(res.status);
      last = (await res.json()) as typeof last;
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(last.detail).toMatch(/too many failed logins, banned until/);
    expect(last.type).toMatch(/banned/);
    const good = await fetch(`${base()}/v1/cdrs`, { headers: { authorization: `Bearer ${token}` } });
    expect(good.status).toBe(429);
    await guard.clear('all');
  });

  test('portal login: wrong passwords, then a refusal page with the ban', async () => {
    await clearAll();
    const login = (password: string) =>
      fetch(`${base()}/portal/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base() },
        body: new URLSearchParams({ name: 'alice', password }).toString(),
      });
    expect((await login('bad1')).status).toBe(401);
    expect((await login('bad2')).status).toBe(401);
    const third = await login('bad3');
    expect(third.status).toBe(429);
    expect(await third.text()).toContain('banned until');
    const right = await login('alice-pw');
    expect(right.status).toBe(429);
    await guard.clear('all');
    const until = Date.now() + 5000;
    let ok = 0;
    while (Date.now() < until && ok !== 303) {
      ok = (await login('alice-pw')).status;
      if (ok !== 303) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok).toBe(303);
  });
});
