import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OutboundSms } from '@smsfleet/core';
import { ApiKeysRepo, RegisteredNumbersRepo } from '@smsfleet/db';
import { apiFixture, type ApiApp } from '../../test/api-fixture.js';

/**
 * `uauthverifysend` / `uauthverifycheck` against real Redis, MariaDB and NATS: the api-gateway
 * runs in-process; the code is read from the SMS it queued (the e2e test reads it from the SMSC
 * simulator instead).
 */
const fx = apiFixture({ tag: 'uav', bus: true });
const { infra, sfx } = fx;
const KEY = `key-${sfx}`;

let gwId = 0;
const ids: Record<string, number> = {};
let app: ApiApp | undefined;

async function startApp(config: Record<string, string>): Promise<void> {
  app = await fx.restartApp({ apiv2key: KEY, smsprice: '0.1', uauthverify: 'true', ...config });
}

async function api(params: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(
    `http://127.0.0.1:${app!.port}/mvapireq/?${new URLSearchParams(params).toString()}`,
  );
  return { status: res.status, body: await res.text() };
}

async function queued(): Promise<Map<string, OutboundSms>> {
  return new Map((await fx.queued(gwId)).map((m) => [m.smsid, m]));
}

/** The queued code SMS of a send answer `OK <smsid>`. */
async function codeSms(body: string): Promise<OutboundSms> {
  expect(body).toMatch(/^OK [0-9a-f-]{36}$/);
  const id = body.slice(3);
  for (let i = 0; i < 200; i++) {
    const m = (await queued()).get(id);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`code SMS ${id} not queued`);
}

function codeOf(m: OutboundSms): string {
  const match = /is (\d+) \(valid/.exec(m.text);
  expect(match, m.text).not.toBeNull();
  return match![1]!;
}

/** The server key unless the request names a user's own credentials. */
const as = (extra: Record<string, string>): Record<string, string> =>
  'authpwd' in extra ? {} : { authkey: KEY };

async function sendCode(number: string, extra: Record<string, string> = {}) {
  return api({ apientry: 'uauthverifysend', ...as(extra), bnum: number, ...extra });
}

async function check(number: string, code: string, extra: Record<string, string> = {}) {
  return api({ apientry: 'uauthverifycheck', ...as(extra), bnum: number, code, ...extra });
}

/** A number no other test uses. */
let seq = 0;
const num = () => `3670${sfx.slice(0, 3).replace(/\D/g, '1')}${String(++seq).padStart(4, '0')}`;

beforeAll(async () => {
  await fx.start();
  const users = fx.users;
  gwId = (await users.create({ name: 'gw', password: '', type: 'smsgw', smsurl: 'http://127.0.0.1:9/x' })).id;
  ids.alice = (await users.create({ name: 'alice', password: 'alice-pw', type: 'user', credit: '10' })).id;
  ids.bob = (await users.create({ name: 'bob', password: 'bob-pw', type: 'user', credit: '10' })).id;
}, 60_000);

afterAll(() => fx.close(), 60_000);

describe('uauthverify off', () => {
  beforeAll(() => startApp({ uauthverify: 'false', httpstrictresponse: 'true' }), 30_000);

  test('both entries refuse with 412 and nothing is queued', async () => {
    const n = num();
    const before = (await queued()).size;
    expect(await sendCode(n)).toEqual({
      status: 412,
      body: 'ERROR SMS verification is disabled on this server (uauthverify=false)',
    });
    expect((await check(n, '123456')).status).toBe(412);
    expect((await queued()).size).toBe(before);
  });
});

describe('codes (httpstrictresponse on)', () => {
  beforeAll(
    () =>
      startApp({
        httpstrictresponse: 'true',
        uauthverify_maxattempts: '3',
        uauthverify_codelength: '8',
        uauthverify_from: 'Verify',
        // Limits have their own block: unlimited here (0).
        uauthverify_rateip: '0',
        uauthverify_checkrateip: '0',
      }),
    30_000,
  );

  test('right code: verified once, sent by the server uncharged, stored only hashed', async () => {
    const n = num();
    const r = await sendCode(n);
    expect(r.status).toBe(200);
    const m = await codeSms(r.body);
    expect(m).toMatchObject({ to: n, from: 'Verify', userId: 0 });
    expect(m.reserved).toBeUndefined();
    const code = codeOf(m);
    expect(code).toMatch(/^\d{8}$/);
    expect(m.text).toBe(`Your verification code is ${code} (valid 5 min).`);
    const stored = await fx.redis.hgetall(`${infra.queuePrefix}:uav:code:${n}`);
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(code);

    expect(await check(`+${n}`, `${code.slice(0, 4)} ${code.slice(4)}`)).toEqual({
      status: 200,
      body: `OK verified ${n}`,
    });
    // Single use.
    expect(await check(n, code)).toEqual({
      status: 420,
      body: 'ERROR no verification code pending for this number (request one first)',
    });
  });

  test('wrong code counts an attempt; the right one still works while attempts are left', async () => {
    const n = num();
    const code = codeOf(await codeSms((await sendCode(n)).body));
    const wrong = code === '00000000' ? '11111111' : '00000000';
    expect(await check(n, wrong)).toEqual({ status: 420, body: 'ERROR wrong code (2 attempts left)' });
    expect((await check(n, code)).body).toBe(`OK verified ${n}`);
  });

  test('too many attempts burns the code, even for the right one', async () => {
    const n = num();
    const code = codeOf(await codeSms((await sendCode(n)).body));
    const wrong = code === '00000000' ? '11111111' : '00000000';
    expect((await check(n, wrong)).body).toBe('ERROR wrong code (2 attempts left)');
    expect((await check(n, wrong)).body).toBe('ERROR wrong code (1 attempt left)');
    expect((await check(n, wrong)).body).toBe('ERROR wrong code (no attempts left, request a new code)');
    expect(await check(n, code)).toEqual({
      status: 420,
      body: 'ERROR too many wrong attempts (request a new code)',
    });
    // A new code starts afresh.
    const fresh = codeOf(await codeSms((await sendCode(n)).body));
    expect((await check(n, fresh)).body).toBe(`OK verified ${n}`);
  });

  test('parallel guesses never exceed the attempt limit', async () => {
    const n = num();
    const code = codeOf(await codeSms((await sendCode(n)).body));
    const guesses = Array.from({ length: 12 }, (_, i) => String(10_000_000 + i)).filter((g) => g !== code);
    const answers = await Promise.all(guesses.map((g) => check(n, g)));
    expect(answers.filter((a) => a.body.startsWith('ERROR wrong code'))).toHaveLength(3);
    expect((await check(n, code)).body).toBe('ERROR too many wrong attempts (request a new code)');
  });

  test('expired: the right code is refused after its time', async () => {
    const n = num();
    const code = codeOf(await codeSms((await sendCode(n)).body));
    // As if the TTL had passed (the record outlives it to say why).
    await fx.redis.hset(`${infra.queuePrefix}:uav:code:${n}`, 'exp', Date.now() - 1);
    expect(await check(n, code)).toEqual({
      status: 420,
      body: 'ERROR verification code expired (request a new code)',
    });
    expect(await fx.redis.hget(`${infra.queuePrefix}:uav:code:${n}`, 'att')).toBe('0');
    expect(await fx.redis.pttl(`${infra.queuePrefix}:uav:code:${n}`)).toBeGreaterThan(3_000_000);
  });

  test('bad input: missing number, bad number, bad code, unauthenticated', async () => {
    expect(await sendCode('')).toEqual({ status: 421, body: 'ERROR missing number (bnum or to)' });
    expect(await sendCode('12ab')).toEqual({ status: 406, body: 'ERROR invalid number: 12ab' });
    expect(await check(num(), 'abc')).toEqual({
      status: 406,
      body: 'ERROR missing or invalid code (digits only)',
    });
    expect((await api({ apientry: 'uauthverifysend', bnum: num() })).status).toBe(403);
    expect((await api({ apientry: 'uauthverifysend', authkey: 'nope', bnum: num() })).status).toBe(403);
  });

  test('json answers', async () => {
    const n = num();
    const r = await sendCode(n, { format: 'json' });
    const body = JSON.parse(r.body) as { status: string; smsid: string; number: string; expiresAt: number };
    expect(body).toMatchObject({ status: 'OK', number: n });
    const m = (await queued()).get(body.smsid) ?? (await codeSms(`OK ${body.smsid}`));
    const c = await check(n, codeOf(m), { format: 'json' });
    expect(JSON.parse(c.body)).toEqual({ status: 'OK', verified: true, number: n });
    const bad = await check(n, '1', { format: 'json' });
    expect(bad.status).toBe(420);
    expect(JSON.parse(bad.body)).toMatchObject({ status: 'ERROR', code: 'CODE' });
  });
});

describe('rate limits', () => {
  beforeAll(
    () =>
      startApp({
        httpstrictresponse: 'true',
        uauthverify_ratenumber: '2',
        uauthverify_rateip: '3',
        uauthverify_rateuser: '2',
        uauthverify_checkrateip: '4',
      }),
    30_000,
  );

  test('per number: the third code to one number in an hour is refused, nothing queued', async () => {
    const n = num();
    await codeSms((await sendCode(n, { userip: '10.1.0.1' })).body);
    await codeSms((await sendCode(n, { userip: '10.1.0.2' })).body);
    const before = (await queued()).size;
    expect(await sendCode(n, { userip: '10.1.0.3' })).toEqual({
      status: 429,
      body: 'ERROR too many requests: codes to this number (at most 2 per hour)',
    });
    expect((await queued()).size).toBe(before);
    // Other numbers are not affected.
    expect((await sendCode(num(), { userip: '10.1.0.4' })).status).toBe(200);
  });

  test('per requesting address (userip named by the key holder)', async () => {
    for (let i = 0; i < 3; i++) expect((await sendCode(num(), { userip: '10.2.0.1' })).status).toBe(200);
    expect(await sendCode(num(), { userip: '10.2.0.1' })).toEqual({
      status: 429,
      body: 'ERROR too many requests: codes from this address (at most 3 per hour)',
    });
    expect((await sendCode(num(), { userip: '10.2.0.2' })).status).toBe(200);
  });

  test('per authenticated user; end users cannot name another address', async () => {
    const alice = { authid: 'alice', authpwd: 'alice-pw', userip: '10.3.0.1' };
    expect((await sendCode(num(), alice)).status).toBe(200);
    expect((await sendCode(num(), { ...alice, userip: '10.3.0.2' })).status).toBe(200);
    expect(await sendCode(num(), { ...alice, userip: '10.3.0.3' })).toEqual({
      status: 429,
      body: 'ERROR too many requests: codes for this user (at most 2 per hour)',
    });
    // userip was ignored for alice: her requests counted on the real address 127.0.0.1.
    expect(await fx.redis.get(`${infra.queuePrefix}:uav:rl:ip:10.3.0.1`)).toBeNull();
    expect(Number(await fx.redis.get(`${infra.queuePrefix}:uav:rl:ip:127.0.0.1`))).toBe(3);
  });

  test('checks per address', async () => {
    const n = num();
    for (let i = 0; i < 4; i++)
      expect((await check(n, '1234', { userip: '10.4.0.1' })).body).toMatch(/^ERROR no verification code/);
    expect(await check(n, '1234', { userip: '10.4.0.1' })).toEqual({
      status: 429,
      body: 'ERROR too many requests: code checks from this address (at most 4 per hour)',
    });
  });
});

describe('attach to a user, charging', () => {
  beforeAll(
    () => startApp({ uauthverify_charge: 'true', uauthverify_rateip: '0', uauthverify_checkrateip: '0' }),
    30_000,
  );
  const alice = { authid: 'alice', authpwd: 'alice-pw' };
  const bob = { authid: 'bob', authpwd: 'bob-pw' };

  test("a verified number becomes the user's registered caller-id; charged to the user", async () => {
    const n = num();
    const before = Number((await fx.users.findById(ids.alice!))!.credit);
    const m = await codeSms((await sendCode(n, alice)).body);
    expect(m).toMatchObject({ userId: ids.alice, reserved: '0.1' });
    expect(Number((await fx.users.findById(ids.alice!))!.credit)).toBeCloseTo(before - 0.1, 6);
    expect(await check(n, codeOf(m), { ...alice, attach: '1' })).toEqual({
      status: 200,
      body: `OK verified ${n} registered`,
    });
    expect(await new RegisteredNumbersRepo(fx.db).listForUser(ids.alice!)).toContain(n);
  });

  test('a number registered to someone else is refused; attach needs a user', async () => {
    const n = num();
    await new RegisteredNumbersRepo(fx.db).add(ids.bob!, n);
    const code = codeOf(await codeSms((await sendCode(n)).body));
    expect(await check(n, code, { ...alice, attach: '1' })).toEqual({
      status: 200,
      body: 'ERROR number verified, but it is registered to another user',
    });
    const n2 = num();
    const code2 = codeOf(await codeSms((await sendCode(n2)).body));
    expect((await check(n2, code2, { attach: '1' })).body).toBe(
      'ERROR attaching a number needs an authenticated user (authid)',
    );
    // The refusal cost no attempt: bob can still verify and attach it.
    expect((await check(n2, code2, { ...bob, attach: '1' })).body).toBe(`OK verified ${n2} registered`);
  });

  test('the server key holder sends uncharged even with uauthverify_charge', async () => {
    const m = await codeSms((await sendCode(num())).body);
    expect(m.userId).toBe(0);
    expect(m.reserved).toBeUndefined();
  });
});

describe('/v1 verifications', () => {
  beforeAll(
    () => startApp({ httpstrictresponse: 'true', uauthverify_rateip: '0', uauthverify_checkrateip: '0' }),
    30_000,
  );
  let token = '';
  const v1 = async (path: string, body: unknown, auth = `Bearer ${token}`) => {
    const res = await fetch(`http://127.0.0.1:${app!.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('send, wrong code, right code with attach; problems for bad input', async () => {
    token = (await new ApiKeysRepo(fx.db).create(ids.bob!, 'verify')).token;
    const n = num();
    const sent = await v1('/v1/verifications', { to: n });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ to: n });
    const m = await codeSms(`OK ${String(sent.body.smsid)}`);
    expect(m.userId).toBe(0);
    const wrong = await v1('/v1/verifications/check', { to: n, code: '1' });
    expect(wrong).toMatchObject({
      status: 422,
      body: { type: '/v1/problems/wrong-code', detail: 'wrong code (4 attempts left)' },
    });
    expect(await v1('/v1/verifications/check', { to: n, code: codeOf(m), attach: true })).toEqual({
      status: 200,
      body: { verified: true, to: n, registeredFor: ids.bob, registration: 'added' },
    });
    expect(await new RegisteredNumbersRepo(fx.db).listForUser(ids.bob!)).toContain(n);

    expect((await v1('/v1/verifications', { to: n, extra: 1 })).status).toBe(422);
    expect((await v1('/v1/verifications', '{bad json')).status).toBe(400);
    expect((await v1('/v1/verifications', { to: n }, 'Bearer sfk_nope')).status).toBe(401);
  });

  test('rate limit per number answers 429', async () => {
    const n = num();
    for (let i = 0; i < 3; i++) expect((await v1('/v1/verifications', { to: n })).status).toBe(202);
    expect(await v1('/v1/verifications', { to: n })).toMatchObject({
      status: 429,
      body: { type: '/v1/problems/too-many-requests' },
    });
  });
});
