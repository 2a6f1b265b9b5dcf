import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OutboundSms, SmsEvent } from '@smsfleet/core';
import { AdvertisementsRepo } from '@smsfleet/db';
import { apiFixture, type ApiApp } from '../test/api-fixture.js';

/**
 * The Mizu send entries against real Redis, MariaDB and NATS: the api-gateway runs in-process, the
 * test reads what was queued (BullMQ) and what happened to the credit (MariaDB), and plays the
 * verifier on NATS for the sync entries.
 */
const fx = apiFixture({ tag: 'mz', bus: true });
const { sfx } = fx;
const KEY = `key-${sfx}`;
// The server secret that seals passwords for authmd5 (read by UsersRepo and the api-gateway).
process.env.SMSFLEET_SECRET_KEY ??= `mizu-send-test-secret-${sfx}-0123456789`;
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

let gwId = 0;
const ids: Record<string, number> = {};
let app: ApiApp | undefined;

async function startApp(config: Record<string, string>): Promise<void> {
  app = await fx.restartApp({ apiv2key: KEY, smsprice: '0.1', ...config });
}

async function api(
  params: Record<string, string>,
  init?: { post?: boolean },
): Promise<{ status: number; body: string }> {
  const q = new URLSearchParams(params).toString();
  const url = `http://127.0.0.1:${app!.port}/mvapireq/`;
  const res = init?.post
    ? await fetch(url, {
        method: 'POST',
        body: q,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
    : await fetch(`${url}?${q}`);
  return { status: res.status, body: await res.text() };
}

/** Every message waiting in the gateway's queue, by smsid. */
async function queued(): Promise<Map<string, OutboundSms>> {
  return new Map((await fx.queued(gwId)).map((m) => [m.smsid, m]));
}

async function queuedCount(): Promise<number> {
  return (await queued()).size;
}

async function credit(name: string): Promise<string> {
  return (await fx.users.findById(ids[name]!))!.credit;
}

function smsidOf(body: string): string {
  expect(body).toMatch(/^OK [0-9a-f-]{36}$/);
  return body.slice(3);
}

async function waitQueuedTo(to: string, timeoutMs = 5000): Promise<OutboundSms> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const m of (await queued()).values()) if (m.to === to) return m;
    if (Date.now() > until) throw new Error(`nothing queued to ${to}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alice = { authid: 'alice', authpwd: 'alice-pw' };
const admin = { authid: 'boss', authpwd: 'boss-pw' };

beforeAll(async () => {
  await fx.start();
  const users = fx.users;
  gwId = (await users.create({ name: 'gw', password: '', type: 'smsgw', smsurl: 'http://127.0.0.1:9/x' })).id;
  ids.boss = (await users.create({ name: 'boss', password: 'boss-pw', type: 'admin' })).id;
  ids.alice = (await users.create({ name: 'alice', password: 'alice-pw', type: 'user', credit: '10' })).id;
  ids.dave = (
    await users.create({ name: 'dave', password: 'dave-pw', type: 'user', credit: '10', enabled: false })
  ).id;
  ids.nina = (
    await users.create({ name: 'nina', password: 'nina-pw', type: 'user', credit: '10', smsAllowed: false })
  ).id;
  ids.poor = (await users.create({ name: 'poor', password: 'poor-pw', type: 'user', credit: '0.05' })).id;
  ids.rich = (
    await users.create({ name: 'rich', password: 'rich-pw', type: 'user', credit: '3', creditLimit: '-2' })
  ).id;
}, 60_000);

afterAll(() => fx.close(), 60_000);

describe('send entries, httpstrictresponse off', () => {
  beforeAll(() => startApp({}), 30_000);

  test('asendsms by the authkey holder: queued, nothing reserved', async () => {
    const r = await api({
      apientry: 'asendsms',
      authkey: KEY,
      anum: '1000',
      bnum: '36201000001',
      message: 'hi',
      now: '555',
    });
    expect(r.status).toBe(200);
    const m = (await queued()).get(smsidOf(r.body))!;
    expect(m).toMatchObject({ to: '36201000001', from: '1000', text: 'hi', userId: 0, gatewayId: gwId });
    expect(m.reserved).toBeUndefined();
  });

  test('asendsms by an admin (authpwd): not charged', async () => {
    const r = await api({ apientry: 'asendsms', ...admin, bnum: '36201000002', message: 'hi' });
    const m = (await queued()).get(smsidOf(r.body))!;
    expect(m).toMatchObject({ userId: ids.boss });
    expect(m.reserved).toBeUndefined();
    expect(await credit('boss')).toBe('0.000000');
  });

  test.each(['sendsms', 'sms'])('%s by an end user reserves the price', async (entry) => {
    const before = Number(await credit('alice'));
    const r = await api({ apientry: entry, ...alice, anum: '1000', bnum: '36201000003', message: 'hi' });
    const m = (await queued()).get(smsidOf(r.body))!;
    expect(m).toMatchObject({ userId: ids.alice, reserved: '0.1', segments: 1 });
    expect(Number(await credit('alice'))).toBeCloseTo(before - 0.1, 6);
  });

  test('several recipients: one reservation for all, one price per message', async () => {
    const before = Number(await credit('alice'));
    // 200 GSM characters: 2 segments each.
    const text = 'x'.repeat(200);
    const r = await api({
      apientry: 'sendsms',
      ...alice,
      bnum: '36201000004;36201000005,36201000006',
      message: text,
    });
    expect(r.body).toMatch(/^OK [0-9a-f-]{36}(,[0-9a-f-]{36}){2}$/);
    const q = await queued();
    const msgs = r.body
      .slice(3)
      .split(',')
      .map((id) => q.get(id)!);
    expect(msgs.map((m) => m.to)).toEqual(['36201000004', '36201000005', '36201000006']);
    for (const m of msgs) expect(m).toMatchObject({ segments: 2, reserved: '0.2' });
    expect(Number(await credit('alice'))).toBeCloseTo(before - 0.6, 6);
  });

  test('authmd5 with a fresh salt; the same salt again is refused; a wrong md5 is refused', async () => {
    const salt = randomBytes(6).toString('hex');
    const p = {
      apientry: 'sendsms',
      authid: 'alice',
      authsalt: salt,
      authmd5: md5(`alice:alice-pw:${salt}`),
    };
    const ok = await api({ ...p, bnum: '36201000007', message: 'md5' });
    expect((await queued()).has(smsidOf(ok.body))).toBe(true);
    const n = await queuedCount();
    const c = await credit('alice');
    const again = await api({ ...p, bnum: '36201000008', message: 'md5' });
    expect(again).toEqual({ status: 200, body: 'ERROR authsalt was already used' });
    const wrong = await api({
      ...p,
      authsalt: 'other',
      authmd5: md5('alice:wrong:other'),
      bnum: '36201000008',
      message: 'x',
    });
    expect(wrong).toEqual({ status: 200, body: 'ERROR authentication failed' });
    expect(await queuedCount()).toBe(n);
    expect(await credit('alice')).toBe(c);
  });

  test.each([
    ['wrong key', { apientry: 'asendsms', authkey: 'nope' }, 'ERROR authentication failed'],
    [
      'wrong password',
      { apientry: 'sendsms', authid: 'alice', authpwd: 'nope' },
      'ERROR authentication failed',
    ],
    ['no credentials', { apientry: 'sendsms' }, /^ERROR authentication required/],
    [
      'a disabled user',
      { apientry: 'sendsms', authid: 'dave', authpwd: 'dave-pw' },
      'ERROR user is disabled',
    ],
    [
      'an end user on asendsms',
      { apientry: 'asendsms', ...alice },
      'ERROR asendsms is for admins; end users use sendsms',
    ],
    [
      'an end user on asendsmssync',
      { apientry: 'asendsmssync', ...alice },
      /^ERROR asendsmssync is for admins/,
    ],
    [
      'a user without the SMS right',
      { apientry: 'sendsms', authid: 'nina', authpwd: 'nina-pw' },
      'ERROR user is not allowed to send SMS',
    ],
    [
      'too little credit',
      { apientry: 'sendsms', authid: 'poor', authpwd: 'poor-pw' },
      'ERROR not enough credit (cost 0.1)',
    ],
    [
      'an invalid number',
      { apientry: 'sendsms', ...alice, bnum: 'call-me' },
      'ERROR invalid target number: call-me',
    ],
    [
      'a missing number',
      { apientry: 'sendsms', ...alice, bnum: '' },
      'ERROR missing target number (bnum or to)',
    ],
  ])('%s: ERROR, nothing queued, no credit moved', async (_n, params, answer) => {
    const n = await queuedCount();
    const credits = await Promise.all(['alice', 'poor', 'dave', 'nina'].map(credit));
    const r = await api({ bnum: '36201000009', message: 'no', ...params });
    expect(r.status).toBe(200);
    if (typeof answer === 'string') expect(r.body).toBe(answer);
    else expect(r.body).toMatch(answer);
    expect(await queuedCount()).toBe(n);
    expect(await Promise.all(['alice', 'poor', 'dave', 'nina'].map(credit))).toEqual(credits);
  });

  test.each([
    ['anum', 'bnum', 'message'],
    ['from', 'bnun', 'txt'],
    ['anum', 'to', 'txt'],
    ['from', 'to', 'message'],
  ])('parameter names %s / %s / %s', async (fromName, toName, textName) => {
    const to = `3620200${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    const r = await api({
      apientry: 'sendsms',
      ...alice,
      [fromName]: '555123',
      [toName]: to,
      [textName]: `via ${textName}`,
    });
    expect((await queued()).get(smsidOf(r.body))).toMatchObject({
      from: '555123',
      to,
      text: `via ${textName}`,
    });
  });

  test('format=json answers JSON, OK and ERROR', async () => {
    const ok = await api({
      apientry: 'sendsms',
      ...alice,
      bnum: '36201000010',
      message: 'j',
      format: 'json',
    });
    const body = JSON.parse(ok.body) as { status: string; smsid: string };
    expect(body.status).toBe('OK');
    expect((await queued()).has(body.smsid)).toBe(true);
    const bad = await api({
      apientry: 'sendsms',
      authid: 'poor',
      authpwd: 'poor-pw',
      bnum: '36201000010',
      message: 'j',
      format: 'json',
    });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({
      status: 'ERROR',
      code: 'NO_CREDIT',
      error: 'not enough credit (cost 0.1)',
    });
  });

  test('unicode text is queued unchanged as UCS2, by GET and by POST', async () => {
    const text = 'Árvíztűrő tükörfúrógép — Привет 👋 你好';
    for (const post of [false, true]) {
      const r = await api({ apientry: 'sendsms', ...alice, bnum: '36201000011', message: text }, { post });
      expect((await queued()).get(smsidOf(r.body))).toMatchObject({ text, encoding: 'UCS2', segments: 1 });
    }
  });
});

describe('httpstrictresponse on: errors carry 4xx codes', () => {
  beforeAll(() => startApp({ httpstrictresponse: 'true' }), 30_000);

  test.each([
    ['wrong key', { apientry: 'asendsms', authkey: 'nope' }, 403],
    ['a disabled user', { apientry: 'sendsms', authid: 'dave', authpwd: 'dave-pw' }, 403],
    ['an end user on an admin entry', { apientry: 'asendsms', ...alice }, 403],
    ['too little credit', { apientry: 'sendsms', authid: 'poor', authpwd: 'poor-pw' }, 402],
    ['an invalid number', { apientry: 'sendsms', ...alice, bnum: 'x' }, 406],
    ['a missing number', { apientry: 'sendsms', ...alice, bnum: '' }, 421],
    ['an unknown entry', { apientry: 'sendfax', ...alice }, 406],
  ])('%s -> %i', async (_n, params, status) => {
    const n = await queuedCount();
    const r = await api({ bnum: '36201000012', message: 'strict', ...params });
    expect(r.status).toBe(status);
    expect(r.body).toMatch(/^ERROR /);
    expect(await queuedCount()).toBe(n);
  });

  test('OK stays 200', async () => {
    const r = await api({ apientry: 'sendsms', ...alice, bnum: '36201000013', message: 'ok' });
    expect(r.status).toBe(200);
    smsidOf(r.body);
  });
});

describe('enablesms=false', () => {
  beforeAll(() => startApp({ enablesms: 'false', httpstrictresponse: 'true' }), 30_000);

  test.each(['sendsms', 'sendsmssync', 'asendsms', 'asendsmssync', 'sms'])('%s is refused', async (entry) => {
    const n = await queuedCount();
    const r = await api({ apientry: entry, authkey: KEY, ...alice, bnum: '36201000014', message: 'x' });
    expect(r).toEqual({ status: 412, body: 'ERROR SMS is disabled on this server (enablesms=false)' });
    expect(await queuedCount()).toBe(n);
  });
});

describe('signature and advertisement', () => {
  beforeAll(async () => {
    await new AdvertisementsRepo(fx.db).add('Buy milk at Joe’s');
    await startApp({ smssignature: '-- Acme', smsadv: 'true', smsadvprefix: 'AD: ', smsadvvalue: '0.02' });
  }, 30_000);

  test('the advert goes before the text, the signature after, and the sender earns smsadvvalue', async () => {
    const before = Number(await credit('alice'));
    const r = await api({ apientry: 'sendsms', ...alice, bnum: '36201000015', message: 'Hello' });
    const m = (await queued()).get(smsidOf(r.body))!;
    expect(m.text).toBe('AD: Buy milk at Joe’s\nHello\n-- Acme');
    // ’ is not GSM 03.38: the whole message is UCS2.
    expect(m).toMatchObject({ encoding: 'UCS2', reserved: '0.1' });
    expect(Number(await credit('alice'))).toBeCloseTo(before - 0.1 + 0.02, 6);
  });

  test('admins get the text too, and the bonus, without being charged', async () => {
    const r = await api({ apientry: 'asendsms', ...admin, bnum: '36201000016', message: 'Hi' });
    expect((await queued()).get(smsidOf(r.body))!.text).toBe('AD: Buy milk at Joe’s\nHi\n-- Acme');
    expect(await credit('boss')).toBe('0.020000');
  });
});

describe('usesmsprefixsp: v_dialplansms rewrites the target number', () => {
  beforeAll(() => startApp({ usesmsprefixsp: 'true' }), 30_000);

  test('the default procedure from the migration passes the number through', async () => {
    const r = await api({ apientry: 'asendsms', authkey: KEY, bnum: '0620111222', message: 'sp' });
    expect((await queued()).get(smsidOf(r.body))!.to).toBe('0620111222');
  });

  test('a rewriting procedure: its single result replaces the number (and sees fromid, fromnum, clientip)', async () => {
    await fx.db.raw('DROP PROCEDURE IF EXISTS v_dialplansms');
    await fx.db
      .raw(`CREATE PROCEDURE v_dialplansms(IN tonum VARCHAR(256), IN fromid INT, IN fromnum VARCHAR(64), IN clientip VARCHAR(64))
      SELECT CASE
        WHEN tonum LIKE '06%' THEN CONCAT('36', SUBSTRING(tonum, 3))
        WHEN tonum = '999' THEN CONCAT('3690', LPAD(fromid, 4, '0'), IF(clientip LIKE '%127.0.0.1', '1', '2'), RIGHT(fromnum, 2))
        WHEN tonum = '666' THEN 'not a number'
        ELSE tonum END AS tonum`);
    const r = await api({
      apientry: 'sendsms',
      ...alice,
      anum: '1077',
      bnum: '0620111222,999,36209999999',
      message: 'sp',
    });
    const q = await queued();
    const tos = r.body
      .slice(3)
      .split(',')
      .map((id) => q.get(id)!.to);
    expect(tos).toEqual(['3620111222', `3690${String(ids.alice).padStart(4, '0')}177`, '36209999999']);
    const n = await queuedCount();
    const c = await credit('alice');
    const bad = await api({ apientry: 'sendsms', ...alice, bnum: '666', message: 'sp' });
    expect(bad.body).toBe('ERROR invalid target number after rewriting: not a number');
    expect(await queuedCount()).toBe(n);
    expect(await credit('alice')).toBe(c);
  });
});

describe('sync entries and smsthread=0 wait for the status on NATS', () => {
  beforeAll(() => startApp({ smssynctimeoutms: '1500', smsthread: '1' }), 30_000);

  const publish = async (state: 'final' | 'submitted' | 'failed', m: OutboundSms, ev: Partial<SmsEvent>) =>
    fx.bus.publish(state, [{ smsid: m.smsid, state: 'delivered', at: Date.now(), msg: m, ...ev }]);

  test('asendsmssync answers OK when the message is delivered', async () => {
    const pending = api({
      apientry: 'asendsmssync',
      authkey: KEY,
      bnum: '36203000001',
      message: 'sync',
      format: 'json',
    });
    const m = await waitQueuedTo('36203000001');
    await publish('final', m, { state: 'delivered' });
    const r = await pending;
    expect(JSON.parse(r.body)).toEqual({ status: 'OK', smsid: m.smsid, state: 'delivered' });
  });

  test('unknown after submit (no verification configured) is OK', async () => {
    const pending = api({ apientry: 'sendsmssync', ...alice, bnum: '36203000002', message: 'sync' });
    const m = await waitQueuedTo('36203000002');
    await publish('final', m, { state: 'unknown' });
    expect(await pending).toEqual({ status: 200, body: `OK ${m.smsid}` });
  });

  test('sendsmssync answers ERROR with the reason when the message is undelivered', async () => {
    const pending = api({ apientry: 'sendsmssync', ...alice, bnum: '36203000003', message: 'sync' });
    const m = await waitQueuedTo('36203000003');
    await publish('final', m, { state: 'undelivered', reason: 'absent subscriber' });
    expect(await pending).toEqual({
      status: 200,
      body: `ERROR undelivered: absent subscriber (smsid ${m.smsid})`,
    });
  });

  test('several recipients: OK only when every one succeeds, JSON lists each state', async () => {
    const pending = api({
      apientry: 'asendsmssync',
      authkey: KEY,
      bnum: '36203000007,36203000008',
      message: 'sync',
      format: 'json',
    });
    const a = await waitQueuedTo('36203000007');
    const b = await waitQueuedTo('36203000008');
    await publish('final', a, { state: 'delivered' });
    await publish('final', b, { state: 'rejected', reason: 'barred' });
    expect(JSON.parse((await pending).body)).toEqual({
      status: 'ERROR',
      code: 'FAILED',
      error: `1 of 2 messages not sent: rejected: barred (smsid ${b.smsid})`,
      smsids: [a.smsid, b.smsid],
      results: [
        { smsid: a.smsid, state: 'delivered' },
        { smsid: b.smsid, state: 'rejected', reason: 'barred' },
      ],
    });
  });

  test('no status within smssynctimeoutms: ERROR timeout', async () => {
    const t0 = Date.now();
    const r = await api({ apientry: 'asendsmssync', authkey: KEY, bnum: '36203000004', message: 'sync' });
    expect(r.body).toMatch(/^ERROR timeout \(smsid [0-9a-f-]{36}\)$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  });

  test('smsthread=0: async entries answer on the submit result', async () => {
    await startApp({ smssynctimeoutms: '3000', smsthread: '0' });
    const ok = api({ apientry: 'asendsms', authkey: KEY, bnum: '36203000005', message: 'thread0' });
    const m1 = await waitQueuedTo('36203000005');
    await new Promise((r) => setTimeout(r, 100));
    await publish('submitted', m1, { state: 'submitted' });
    expect((await ok).body).toBe(`OK ${m1.smsid}`);
    const bad = api({ apientry: 'sendsms', ...alice, bnum: '36203000006', message: 'thread0' });
    const m2 = await waitQueuedTo('36203000006');
    await publish('failed', m2, { state: 'failed', reason: 'rejected by provider' });
    expect((await bad).body).toBe(`ERROR failed: rejected by provider (smsid ${m2.smsid})`);
  });
});

describe('concurrency: credit is never spent twice', () => {
  beforeAll(() => startApp({ smsprice: '0.1' }), 30_000);

  test('200 parallel sends from a user whose credit covers 50: exactly 50 accepted, balance exact', async () => {
    // credit 3, credit_limit -2, price 0.1: room for exactly 50 messages.
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api({
          apientry: 'sendsms',
          authid: 'rich',
          authpwd: 'rich-pw',
          bnum: `3620400${String(i).padStart(4, '0')}`,
          message: `race ${i}`,
        }),
      ),
    );
    const ok = answers.filter((a) => a.body.startsWith('OK '));
    const refused = answers.filter((a) => !a.body.startsWith('OK '));
    expect(ok).toHaveLength(50);
    expect(new Set(refused.map((a) => a.body))).toEqual(new Set(['ERROR not enough credit (cost 0.1)']));
    expect(await credit('rich')).toBe('-2.000000');
    const mine = [...(await queued()).values()].filter((m) => m.userId === ids.rich);
    expect(mine).toHaveLength(50);
    expect(new Set(ok.map((a) => a.body.slice(3)))).toEqual(new Set(mine.map((m) => m.smsid)));
    for (const m of mine) expect(m.reserved).toBe('0.1');
  });
});
