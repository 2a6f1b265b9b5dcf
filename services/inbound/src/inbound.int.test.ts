import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sipRegistrationKey, type OutboundSms } from '@smsfleet/core';
import {
  ApiKeysRepo,
  CallbackRequestsRepo,
  InboxRepo,
  RechargeRepo,
  RegisteredNumbersRepo,
  UsersRepo,
} from '@smsfleet/db';
import { createLogger } from '@smsfleet/runtime';
import { AuthGuard } from '@smsfleet/security';
import { apiFixture, type ApiApp } from '../../api-gateway/test/api-fixture.js';
import type { CallEvent } from './command-runner.js';
import { startInbound } from './app.js';

/**
 * Inbound SMS end to end inside one process pair: the api-gateway (smsreceive, the Clickatell-style
 * root callback, GET /v1/inbox) and the inbound service, against real MariaDB, NATS JetStream,
 * Redis and a local SMTP server started here.
 */
const fx = apiFixture({ tag: 'inb', pool: 6, bus: true });
const { infra, sfx } = fx;
const KEY = `key-${sfx}`;
// The server secret: PINs and passwords alone find their user through HMAC lookup tags under it
// (callingcardauth modes 0, 2, 5, 9, 10, 11). Read by the repositories of the test and the services.
process.env.SMSFLEET_SECRET_KEY ??= `inbound-test-secret-${sfx}-0123456789`;

interface Mail {
  to: string;
  raw: string;
}

let gateway: ApiApp | undefined;
let inbound: { close: () => Promise<string[]>; port: number } | undefined;
let smtp: SMTPServer | undefined;
const mails: Mail[] = [];
let smtpPort = 0;
const ids: Record<string, number> = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startSmtp(port: number): Promise<void> {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 100,
    logger: false,
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) mails.push({ to: r.address, raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp!.listen(port, '127.0.0.1', resolve));
}

async function stopSmtp(): Promise<void> {
  if (!smtp) return;
  const s = smtp;
  smtp = undefined;
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

async function setConfig(values: Record<string, string>): Promise<void> {
  await fx.setConfig(values);
  fx.bus.notify('config');
  // Both services reload on the notification; give them a moment.
  await new Promise((r) => setTimeout(r, 300));
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = () => `http://127.0.0.1:${gateway!.port}`;

async function smsreceive(
  params: Record<string, string>,
  post = false,
): Promise<{ status: number; body: string }> {
  const q = new URLSearchParams({ apientry: 'smsreceive', ...params }).toString();
  const res = post
    ? await fetch(`${base()}/mvapireq/`, {
        method: 'POST',
        body: q,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
    : await fetch(`${base()}/mvapireq/?${q}`);
  return { status: res.status, body: await res.text() };
}

/** The Clickatell MO callback of the seed, posted to the root path. */
async function clickatell(fields: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base()}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Clickatell MO Callback' },
    body: new URLSearchParams({
      api_id: '3144985',
      timestamp: '2009-07-04 21:39:40',
      charset: 'ISO-8859-1',
      udh: '',
      ...fields,
    }).toString(),
  });
  return { status: res.status, body: await res.text() };
}

async function inboxOf(userId: number): Promise<{ text: string; from: string; moId: string }[]> {
  return new InboxRepo(fx.db).listForUser(userId);
}

async function stored(moId: string) {
  return (await new InboxRepo(fx.db).findByMoIds([moId])).get(moId);
}

async function cdr(smsid: string): Promise<Record<string, unknown> | undefined> {
  return (await fx.db('cdr').where({ smsid }).first()) as Record<string, unknown> | undefined;
}

/** Messages waiting in the queue of gateway 0 (the global smsurl; no dispatcher runs here). */
const answers = (): Promise<OutboundSms[]> => fx.queued(0);

async function answerTo(to: string, match: RegExp): Promise<OutboundSms> {
  return waitFor(`an answer to ${to} matching ${match}`, async () =>
    (await answers()).find((m) => m.to === to && match.test(m.text)),
  );
}

beforeAll(async () => {
  await fx.start();
  const users = fx.users;
  const numbers = new RegisteredNumbersRepo(fx.db);
  ids.alice = (await users.create({ name: 'alice', password: 'alice-pw', type: 'user', credit: '1' })).id;
  ids.bob = (await users.create({ name: 'bob', password: 'bob-pw', type: 'user' })).id;
  ids.carol = (await users.create({ name: 'carol', password: 'carol-pw', type: 'user' })).id;
  await numbers.add(ids.alice, '3670000001');
  await numbers.add(ids.alice, '3630000001'); // alice's mobile: caller-id authentication
  await numbers.add(ids.bob, '3670000002');
  await numbers.add(ids.carol, '3670000003');
  await numbers.setContact(ids.alice, { email: 'alice@example.test', pin: '4321' });
  await numbers.setContact(ids.bob, { email: 'bob@example.test', chatEndpoint: 'sip:bob@example.test' });
  smtpPort = await freePort();
  await startSmtp(smtpPort);
  await fx.setConfig({
    apiv2key: KEY,
    smsreceive_route: '1',
    smsreceive_ip: '127.0.0.1',
    smsurl: 'http://127.0.0.1:9/send?to=[tonum]&text=[message]',
    smtpserver: '127.0.0.1',
    smtpport: String(smtpPort),
    smtpfrom: 'sms@example.test',
    defcallbackivr: 'callback-campaign',
  });
  gateway = await fx.startApp();
  inbound = await startInbound({
    infra,
    httpPort: 0,
    log: createLogger('inbound-test', 'silent'),
    maxBatchMessages: 64,
    emailGiveUpMs: 60_000,
    retryDelayMs: 200,
    partTtlMs: 3_600_000,
  });
}, 60_000);

afterAll(async () => {
  await inbound?.close();
  await fx.stopApps();
  await stopSmtp();
  await fx.close();
}, 60_000);

describe('smsreceive', () => {
  test('an allowed address is delivered; a refused address gets ERROR and nothing is stored', async () => {
    const ok = await smsreceive({ from: '3620000001', to: '3670000001', message: 'Works', now: '555' });
    expect(ok.body).toMatch(/^OK \S+$/);
    const moId = ok.body.slice(3);
    await waitFor('inbox row', async () => (await inboxOf(ids.alice!)).find((m) => m.moId === moId));
    expect(await cdr(moId)).toMatchObject({
      direction: 'inbound',
      type: 'SMS',
      user_id: ids.alice,
      caller: '3620000001',
      callee: '3670000001',
      state: 'delivered',
    });

    await setConfig({ smsreceive_ip: '10.0.0.0/8, 192.168.1.7' });
    const refused = await smsreceive({ from: '3620000001', to: '3670000001', message: 'Refused' });
    expect(refused.body).toBe('ERROR incoming SMS are not accepted from this address');
    await setConfig({ smsreceive_ip: '10.0.0.0/8, 127.0.0.0/8' });
    const again = await smsreceive({ from: '3620000001', to: '3670000001', message: 'CIDR ok' }, true);
    expect(again.body).toMatch(/^OK /);
    await waitFor('CIDR message', async () => (await inboxOf(ids.alice!)).find((m) => m.text === 'CIDR ok'));
    expect((await inboxOf(ids.alice!)).some((m) => m.text === 'Refused')).toBe(false);
  });

  test('a JSON body, and a missing target number changes nothing', async () => {
    const post = (body: unknown) =>
      fetch(`${base()}/mvapireq/?apientry=smsreceive`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.text());
    expect(await post({ from: '3620000012', to: '3670000001', message: 'from JSON' })).toMatch(/^OK /);
    await waitFor('JSON message', async () =>
      (await inboxOf(ids.alice!)).find((m) => m.text === 'from JSON'),
    );
    expect(await post({ from: '3620000012', message: 'nowhere' })).toBe(
      'ERROR missing to in the incoming SMS',
    );
  });

  test('smsreceive_check and marker extraction', async () => {
    await setConfig({
      smsreceive_check: 'SECRET-42',
      smsreceive_from: '<from>,,</from>,',
      smsreceive_to: '<to>,,</to>,',
      smsreceive_message: '<text>,<body>,</text>,</body>',
    });
    try {
      const xml = (secret: string) =>
        `<sms key="${secret}"><from>3620000009</from><to>3670000001</to><body>Hello &amp; XML</body></sms>`;
      const post = (body: string) =>
        fetch(`${base()}/mvapireq/?apientry=smsreceive`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body,
        }).then((r) => r.text());
      expect(await post(xml('nope'))).toBe('ERROR not an incoming SMS (smsreceive_check not found): dropped');
      expect(await post(xml('SECRET-42'))).toMatch(/^OK /);
      const m = await waitFor('XML message', async () =>
        (await inboxOf(ids.alice!)).find((x) => x.from === '3620000009'),
      );
      expect(m.text).toBe('Hello &amp; XML');
      expect(await post('<sms key="SECRET-42"><to>3670000001</to></sms>')).toBe(
        'ERROR missing from in the incoming SMS',
      );
    } finally {
      await setConfig({
        smsreceive_check: '',
        smsreceive_from: '',
        smsreceive_to: '',
        smsreceive_message: '',
      });
    }
  });

  test('a 3-part MO arriving out of order (and one part twice) is delivered once, whole', async () => {
    const texts = ['The first part, ', 'the second part, ', 'and the end.'];
    const post = (seq: number, id: string) =>
      clickatell({
        from: '3620000003',
        to: '3670000003',
        text: texts[seq - 1]!,
        udh: `050003C403${seq.toString(16).padStart(2, '0')}`,
        moMsgId: id,
      });
    for (const [seq, id] of [
      [3, 'mo-part-3'],
      [1, 'mo-part-1'],
      [1, 'mo-part-1b'],
      [2, 'mo-part-2'],
    ] as const) {
      const r = await post(seq, `${id}-${sfx}`);
      expect(r.body).toBe(`OK ${id}-${sfx}`);
    }
    const msg = await waitFor('the whole message', async () =>
      (await inboxOf(ids.carol!)).find((m) => m.from === '3620000003'),
    );
    expect(msg.text).toBe('The first part, the second part, and the end.');
    await new Promise((r) => setTimeout(r, 500));
    expect((await inboxOf(ids.carol!)).filter((m) => m.from === '3620000003')).toHaveLength(1);
    expect(await cdr(msg.moId)).toMatchObject({ direction: 'inbound', segments: 3, user_id: ids.carol });
    expect(await fx.db('mo_parts').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  test('GET /v1/inbox with the server key, for a user', async () => {
    for (const text of ['inbox one', 'inbox two']) {
      expect((await smsreceive({ from: '3620000010', to: '3670000001', message: text })).body).toMatch(
        /^OK /,
      );
      await waitFor(text, async () => (await inboxOf(ids.alice!)).find((m) => m.text === text));
    }
    const res = await fetch(`${base()}/v1/inbox?userId=${ids.alice}&limit=2`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: { text: string; from: string }[]; next: number };
    expect(body.messages.map((m) => m.text)).toEqual(['inbox two', 'inbox one']);
    expect(body.next).toBeGreaterThan(0);
    const { token } = await new ApiKeysRepo(fx.db).create(ids.bob!);
    const own = await fetch(`${base()}/v1/inbox?userId=${ids.alice}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own.status).toBe(403);
    expect(own.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await fetch(`${base()}/v1/inbox`)).status).toBe(401);
  });
});

describe('smsreceive_route with a local SMTP server', () => {
  const send = async (to: string, message: string) => {
    const r = await smsreceive({ from: '3620000005', to, message });
    expect(r.body).toMatch(/^OK /);
    return r.body.slice(3);
  };
  const mailFor = (addr: string, text: string) =>
    waitFor(`mail to ${addr}`, async () => mails.find((m) => m.to === addr && m.raw.includes(text)));
  const settled = (moId: string) =>
    waitFor(`CDR of ${moId}`, async () => (await cdr(moId)) !== undefined && (await stored(moId)));

  test('1 chat: inbox only, no mail', async () => {
    await setConfig({ smsreceive_route: '1' });
    const id = await send('3670000001', 'route one');
    const m = await settled(id);
    expect(m).toMatchObject({ chat: true, emailState: 'none' });
    expect(mails.some((x) => x.raw.includes('route one'))).toBe(false);
  });

  test('2 email: mail only, not in the inbox', async () => {
    await setConfig({ smsreceive_route: '2' });
    const id = await send('3670000001', 'route two');
    const mail = await mailFor('alice@example.test', 'route two');
    expect(mail.raw).toMatch(/Subject: SMS from 3620000005/);
    expect(mail.raw).toMatch(/From: sms@example.test/);
    await waitFor('sent', async () => (await stored(id))?.emailState === 'sent');
    expect((await inboxOf(ids.alice!)).some((m) => m.text === 'route two')).toBe(false);
  });

  test('3 chat or email: email only for a user without a chat endpoint', async () => {
    await setConfig({ smsreceive_route: '3' });
    const toAlice = await send('3670000001', 'route three alice');
    const toBob = await send('3670000002', 'route three bob');
    await mailFor('alice@example.test', 'route three alice');
    expect(await settled(toBob)).toMatchObject({ chat: true, emailState: 'none' });
    await waitFor('alice sent', async () => (await stored(toAlice))?.emailState === 'sent');
    expect((await stored(toAlice))!.chat).toBe(false);
    expect(mails.some((m) => m.raw.includes('route three bob'))).toBe(false);
  });

  test('3 chat or email: a live SIP registration counts as a chat endpoint (no mail)', async () => {
    await setConfig({ smsreceive_route: '3' });
    const key = sipRegistrationKey(infra.queuePrefix, 'alice');
    await fx.redis.hset(
      key,
      'sip:alice@127.0.0.1:5070',
      JSON.stringify({ contact: 'sip:alice@127.0.0.1:5070' }),
    );
    await fx.redis.pexpire(key, 60_000);
    try {
      const id = await send('3670000001', 'route three registered');
      expect(await settled(id)).toMatchObject({ chat: true, emailState: 'none' });
      expect(mails.some((m) => m.raw.includes('route three registered'))).toBe(false);
    } finally {
      await fx.redis.del(key);
    }
  });

  test('4 chat and email: both', async () => {
    await setConfig({ smsreceive_route: '4' });
    const id = await send('3670000001', 'route four');
    await mailFor('alice@example.test', 'route four');
    await waitFor('sent', async () => (await stored(id))?.emailState === 'sent');
    expect((await stored(id))!.chat).toBe(true);
  });

  test('the mail server away for a while: the email is retried and arrives once', async () => {
    await setConfig({ smsreceive_route: '2' });
    await stopSmtp();
    const id = await send('3670000001', 'while the mail server was down');
    await waitFor('a failed attempt', async () => ((await stored(id))?.emailAttempts ?? 0) >= 2);
    expect((await stored(id))!.emailState).toBe('pending');
    await startSmtp(smtpPort);
    await mailFor('alice@example.test', 'while the mail server was down');
    await waitFor('sent', async () => (await stored(id))?.emailState === 'sent');
    await new Promise((r) => setTimeout(r, 600));
    expect(mails.filter((m) => m.raw.includes('while the mail server was down'))).toHaveLength(1);
    expect(await cdr(id)).toMatchObject({ state: 'delivered', direction: 'inbound' });
  });
});

describe.skipIf(!process.env.INBOUND_BENCH)('throughput (INBOUND_BENCH=N prints figures)', () => {
  test('N smsreceive requests, 32 in parallel', async () => {
    await setConfig({ smsreceive_route: '1' });
    const n = Number(process.env.INBOUND_BENCH);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          await smsreceive({ from: '3620000999', to: '3670000003', message: `bench ${i}` });
        }
      }),
    );
    const accepted = performance.now() - t0;
    await waitFor(
      'all delivered',
      async () => {
        const r = await fx.db('inbox').where({ from_number: '3620000999' }).count({ n: '*' }).first();
        return Number(r?.n) >= n;
      },
      120_000,
    );
    const done = performance.now() - t0;
    console.log(
      `smsreceive: ${n} accepted in ${accepted.toFixed(0)} ms (${((n / accepted) * 1000).toFixed(0)}/s), ` +
        `all in the inbox after ${done.toFixed(0)} ms (${((n / done) * 1000).toFixed(0)}/s)`,
    );
  }, 180_000);
});

describe('durability', () => {
  test('the database failing for a while: the message is redelivered and stored once', async () => {
    await setConfig({ smsreceive_route: '1' });
    // Every inbox write fails while the table is away (as with MariaDB down or read-only).
    await fx.db.raw('RENAME TABLE inbox TO inbox_away');
    let renamedBack = false;
    try {
      const r = await smsreceive({ from: '3620000066', to: '3670000002', message: 'survives a db outage' });
      expect(r.body).toMatch(/^OK /);
      await new Promise((res) => setTimeout(res, 1200)); // a few failed deliveries (retry every 200 ms)
      await fx.db.raw('RENAME TABLE inbox_away TO inbox');
      renamedBack = true;
      const m = await waitFor('the message after the outage', async () =>
        (await inboxOf(ids.bob!)).find((x) => x.text === 'survives a db outage'),
      );
      await new Promise((res) => setTimeout(res, 500));
      expect((await inboxOf(ids.bob!)).filter((x) => x.text === 'survives a db outage')).toHaveLength(1);
      expect(await waitFor('the CDR', () => cdr(m.moId))).toMatchObject({ state: 'delivered' });
      const retries = await (await fetch(`http://127.0.0.1:${inbound!.port}/metrics`)).text();
      expect(retries).toMatch(/smsfleet_inbound_batch_retries_total(\{[^}]*\})? [1-9]/);
    } finally {
      if (!renamedBack) await fx.db.raw('RENAME TABLE inbox_away TO inbox');
    }
  });
});

describe('SMS commands', () => {
  const ACCESS = '3699999999'; // no user owns it: texts to it are commands
  const cmd = async (from: string, text: string) => {
    const r = await smsreceive({ from, to: ACCESS, message: text });
    expect(r.body).toMatch(/^OK /);
    return r.body.slice(3);
  };

  beforeAll(() => setConfig({ smsreceive_route: '1', callingcardauth: '12', anumberhandling: '3' }));

  test('register a number (username+password), then caller-id callback publishes call.callback', async () => {
    const events: CallEvent[] = [];
    const consumption = await fx.bus.consume<CallEvent>(`t-cb-${sfx}`, 'callback', async (e) => {
      events.push(...e);
    });
    try {
      await cmd('3640000001', 'n alice alice-pw 3640000001');
      await answerTo('3640000001', /^OK 3640000001 registered$/);
      expect(await new RegisteredNumbersRepo(fx.db).listForUser(ids.alice!)).toContain('3640000001');

      const moId = await cmd('3640000001', 'b 3650000000');
      await answerTo('3640000001', /^OK callback to 3650000000 requested$/);
      const ev = await waitFor('call.callback', async () => events.find((e) => e.moId === moId));
      expect(ev).toMatchObject({
        type: 'call.callback',
        userId: ids.alice,
        number1: '3650000000',
        ivr: 'callback-campaign',
      });
      expect((await new CallbackRequestsRepo(fx.db).list({ userId: ids.alice }))[0]).toMatchObject({
        kind: 'callback',
        number1: '3650000000',
      });
    } finally {
      await consumption.stop();
    }
  });

  test('p2p with a pincode typed as username+password', async () => {
    const moId = await cmd('3620000077', 'p alicealice-pw 3611111111 3622222222');
    await answerTo('3620000077', /^OK call 3611111111 - 3622222222 requested$/);
    expect(await waitFor('the CDR', () => cdr(moId))).toMatchObject({
      state: 'delivered',
      user_id: ids.alice,
    });
  });

  test('callingcardauth 10: a PIN or a password alone, checked against their hashes', async () => {
    await setConfig({ callingcardauth: '10' });
    try {
      const row = (await fx.db('users').where({ id: ids.alice }).first()) as Record<string, unknown>;
      expect(JSON.stringify(row)).not.toMatch(/4321|alice-pw/);
      const byPin = await cmd('3620000090', 'p 4321 3611111111 3622222222');
      await answerTo('3620000090', /^OK call 3611111111 - 3622222222 requested$/);
      expect(await waitFor('the CDR', () => cdr(byPin))).toMatchObject({ user_id: ids.alice });
      const byPassword = await cmd('3620000091', 'p bob-pw 3611111112 3622222222');
      await answerTo('3620000091', /^OK call 3611111112 - 3622222222 requested$/);
      expect(await waitFor('the CDR', () => cdr(byPassword))).toMatchObject({ user_id: ids.bob });
      await cmd('3620000092', 'p 4322 3611111113 3622222222');
      await answerTo('3620000092', /^ERROR authentication failed$/);
      // Mode 10 does not accept username+password typed together.
      await cmd('3620000093', 'p alicealice-pw 3611111114 3622222222');
      await answerTo('3620000093', /^ERROR authentication failed$/);
    } finally {
      await setConfig({ callingcardauth: '12' });
    }
  });

  test('wrong pincodes from one number ban it (the right one is refused too) until cleared', async () => {
    await setConfig({ authban_slowafter: '0', authban_addressafter: '3', authban_userafter: '100' });
    const guard = new AuthGuard(fx.redis, infra.queuePrefix);
    try {
      await cmd('3620000095', 'p alice0000 3611111111 3622222222');
      await answerTo('3620000095', /^ERROR authentication failed$/);
      await cmd('3620000095', 'p alice0001 3611111111 3622222222');
      await cmd('3620000095', 'p alice0002 3611111111 3622222222');
      await answerTo('3620000095', /^ERROR authentication failed; too many failed logins, banned until /);
      await cmd('3620000095', 'p alice4321 3611111119 3622222222');
      await answerTo('3620000095', /^ERROR too many failed logins, banned until /);
      expect((await guard.list()).map((b) => `${b.scope}:${b.id}`)).toEqual(['address:sms:3620000095']);
      // Another number is not banned.
      await cmd('3620000096', 'p alice4321 3611111118 3622222222');
      await answerTo('3620000096', /^OK call 3611111118 - 3622222222 requested$/);
      expect(await guard.clear({ address: 'sms:3620000095' })).toBe(1);
    } finally {
      await setConfig({ authban_slowafter: '5', authban_addressafter: '20', authban_userafter: '50' });
    }
  });

  test('bad or unauthenticated commands get a clear answer and change nothing', async () => {
    const before = await fx.db('callback_requests').count({ n: '*' }).first();
    await cmd('3620000078', 'p wrongpin 3611111111 3622222222');
    await answerTo('3620000078', /^ERROR authentication failed$/);
    await cmd('3620000079', 'n 4321 notanumber');
    await answerTo('3620000079', /^ERROR not a phone number: notanumber$/);
    await cmd('3620000080', 'b'); // caller-id of an unknown number
    await answerTo('3620000080', /^ERROR authentication failed$/);
    expect(await fx.db('callback_requests').count({ n: '*' }).first()).toEqual(before);
  });

  test('a recharge code credits once; the second use is refused', async () => {
    const [code] = await new RechargeRepo(fx.db).create('2.5');
    const creditOf = async () => (await new UsersRepo(fx.db).findById(ids.alice!))!.credit;
    const start = Number(await creditOf());
    await cmd('3630000001', `c ${code!.code}`); // caller-id: alice's registered mobile
    await answerTo('3630000001', new RegExp(`^OK credit added: 2.5, balance ${start + 2.5}$`));
    await cmd('3620000081', `c ${code!.code} 3630000001`);
    await answerTo('3620000081', /^ERROR recharge code already used$/);
    expect(Number(await creditOf())).toBe(start + 2.5);
    expect(
      await fx.db('credit_audit').where({ user_id: ids.alice, reason: 'recharge' }).count({ n: '*' }).first(),
    ).toEqual({
      n: 1,
    });
  });

  test('httpsmcallbackip: commands from another address are not run', async () => {
    await setConfig({ httpsmcallbackip: '10.1.1.1' });
    try {
      const moId = await cmd('3630000001', 'b 3650000001');
      const row = await waitFor('the CDR', () => cdr(moId));
      expect(row).toMatchObject({ state: 'undelivered' });
      expect(String(row.disconnect_reason)).toMatch(/httpsmcallbackip/);
      expect((await answers()).some((m) => m.to === '3630000001' && m.text.includes('3650000001'))).toBe(
        false,
      );
    } finally {
      await setConfig({ httpsmcallbackip: '' });
    }
  });
});
