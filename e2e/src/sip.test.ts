import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EventBus } from '@smsfleet/bus';
import { sipRegistrationKey } from '@smsfleet/core';
import { ConfigRepo, RegisteredNumbersRepo, UsersRepo } from '@smsfleet/db';
import { SecretKey } from '@smsfleet/security';
import { Fleet, REPO_ROOT, freeSipPort, waitFor } from './fleet.js';

/**
 * The SIP front with sipp (Debian `sip-tester`) against a real fleet: REGISTER and MESSAGE with
 * digest authentication, MESSAGE -> SMS through the api-gateway (simulator + CDR), each
 * `sendsmsmessages` mode, refusals, and an inbound SMS delivered to a registered sipp UAS.
 */
const SCENARIOS = path.join(REPO_ROOT, 'services/sip-gateway/test/sipp');
const SECRET = 'e2e-sip-secret-key-0123456789abcdef0123456789';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smsfleet-sipp-'));
let runs = 0;

interface SippResult {
  code: number;
  log: string;
  /** Status codes of the responses sipp received, in order. */
  statuses: number[];
}

function sipp(fleet: Fleet, scenario: string, args: string[], timeoutS = 20): Promise<SippResult> {
  const messageFile = path.join(tmp, `sipp-${++runs}.log`);
  const argv = [
    `127.0.0.1:${fleet.sipPort}`,
    '-sf',
    path.join(SCENARIOS, scenario),
    '-i',
    '127.0.0.1',
    '-m',
    '1',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    '-trace_msg',
    '-message_file',
    messageFile,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const log = fs.existsSync(messageFile) ? fs.readFileSync(messageFile, 'latin1') : stderr;
      const statuses = [...log.matchAll(/message received[^\n]*\n+SIP\/2\.0 (\d{3})/g)].map((m) =>
        Number(m[1]),
      );
      resolve({ code: code ?? -1, log, statuses });
    });
  });
}

/** register.xml as alice: REGISTER (digest auth with `password`) the contact 127.0.0.1:`contactPort`. */
function registerAlice(
  fleet: Fleet,
  password: string,
  contactPort: number,
  expires: number,
): Promise<SippResult> {
  const contact = ['-key', 'contact_port', String(contactPort), '-key', 'expires', String(expires)];
  return sipp(fleet, 'register.xml', ['-s', 'alice', '-au', 'alice', '-ap', password, ...contact]);
}

/** sipp as a SIP user sending a MESSAGE; returns the final status of the authenticated request. */
async function message(
  fleet: Fleet,
  user: string,
  password: string,
  target: string,
  text = 'Hello from SIP',
  ctype = 'text/plain;charset=UTF-8',
  extra: string[] = [],
): Promise<SippResult & { final: number; smsid?: string }> {
  const r = await sipp(fleet, 'message.xml', [
    '-s',
    user,
    '-au',
    user,
    '-ap',
    password,
    '-key',
    'target',
    target,
    '-key',
    'ctype',
    ctype,
    '-key',
    'text',
    text,
    ...extra,
  ]);
  const smsid = /X-Smsid:\s*(\S+)/i.exec(r.log)?.[1];
  return { ...r, final: r.statuses[r.statuses.length - 1] ?? 0, smsid };
}

describe('SIP front (sipp)', () => {
  let fleet: Fleet;
  let redis: Redis;
  let bus: EventBus;
  let aliceId = 0;

  const setConfig = async (key: string, value: string) => {
    await new ConfigRepo(fleet.db).set(key, value);
    bus.notify('config');
    // Every service applies a change within moments; give the sip-gateway one.
    await new Promise((r) => setTimeout(r, 700));
  };

  /**
   * Registers alice's SIP contact at 127.0.0.1:`contactPort`, then has an SMS from `from` arrive for
   * her registered number through the Mizu API (`smsreceive`); both must be accepted.
   */
  const registerAliceAndReceive = async (contactPort: number, from: string, message: string) => {
    const reg = await registerAlice(fleet, 'alice-sip-pw', contactPort, 300);
    expect(reg.statuses).toEqual([401, 200]);
    const r = await fleet.mizu({ apientry: 'smsreceive', from, to: '36700000031', message });
    expect(r.body).toMatch(/^OK/);
  };

  beforeAll(async () => {
    fleet = new Fleet({
      sipGateway: true,
      env: {
        'sip-gateway': {
          SMSFLEET_SECRET_KEY: SECRET,
          SIP_REALM: 'smsfleet.test',
          SIP_MAX_BODY_BYTES: '300',
          SIP_CHAT_RETRY_DELAY_MS: '300',
          SIP_TRANSACTION_TIMEOUT_MS: '3000',
        },
      },
      config: { smsreceive_route: '1', smsprice: '0.05' },
    });
    await fleet.start();
    redis = new Redis(fleet.infraEnv.REDIS_URL!);
    bus = await EventBus.connect({ url: fleet.infraEnv.NATS_URL!, prefix: fleet.eventPrefix });
    const users = new UsersRepo(fleet.db, { secretKey: SecretKey.fromText(SECRET) });
    aliceId = (await users.create({ name: 'alice', password: 'alice-sip-pw', type: 'user', credit: '10' }))
      .id;
    await users.create({ name: 'bob', password: 'bob-sip-pw', type: 'user', credit: '0' });
    await new RegisteredNumbersRepo(fleet.db).add(aliceId, '36700000031');
  }, 180_000);

  afterAll(async () => {
    await redis?.quit();
    await bus?.close();
    await fleet?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test('REGISTER with digest auth stores the contact in Redis; a wrong password gets 403', async () => {
    const contactPort = await freeSipPort();
    const ok = await registerAlice(fleet, 'alice-sip-pw', contactPort, 120);
    expect(ok.code, ok.log).toBe(0);
    expect(ok.statuses).toEqual([401, 200]);
    expect(ok.log).toMatch(
      new RegExp(`Contact: +<sip:alice@127\\.0\\.0\\.1:${contactPort}>;expires=1[12]\\d`),
    );
    const stored = await redis.hgetall(sipRegistrationKey(fleet.queuePrefix, 'alice'));
    expect(Object.keys(stored)).toEqual([`sip:alice@127.0.0.1:${contactPort}`]);

    const bad = await registerAlice(fleet, 'wrong', 5999, 120);
    expect(bad.statuses).toEqual([401, 403]);
    // Nothing changed for alice.
    expect(Object.keys(await redis.hgetall(sipRegistrationKey(fleet.queuePrefix, 'alice')))).toHaveLength(1);

    // Expires 0 unregisters.
    const off = await registerAlice(fleet, 'alice-sip-pw', contactPort, 0);
    expect(off.statuses).toEqual([401, 200]);
    expect(await redis.exists(sipRegistrationKey(fleet.queuePrefix, 'alice'))).toBe(0);
  }, 60_000);

  test('a MESSAGE to a mobile number reaches the SMSC simulator as the SIP user and gets a CDR', async () => {
    const r = await message(fleet, 'alice', 'alice-sip-pw', '+36201234567', 'Hello SMS from SIP');
    expect(r.statuses, r.log).toEqual([401, 202]);
    expect(r.smsid).toMatch(/^[0-9a-f-]{36}$/);
    const got = await waitFor('the simulator got it', async () => {
      const m = await fleet.simMessages({ smsid: r.smsid! });
      return m.length ? m : undefined;
    });
    expect(got[0]).toMatchObject({ text: 'Hello SMS from SIP' });
    expect(got[0]!.to).toMatch(/36201234567$/);
    const cdr = await waitFor(
      'the CDR',
      async () =>
        ((await fleet.db('cdr').where({ smsid: r.smsid }).first()) as
          { user_id: number; cost: string } | undefined) ?? undefined,
      30_000,
    );
    expect(cdr.user_id).toBe(aliceId);
    expect(Number(cdr.cost)).toBeGreaterThan(0);
  }, 60_000);

  test('over TCP as well', async () => {
    const r = await message(fleet, 'alice', 'alice-sip-pw', '+36201234570', 'Over TCP', undefined, [
      '-t',
      't1',
    ]);
    expect(r.statuses, r.log).toEqual([401, 202]);
    expect(r.log).toMatch(/TCP message received/);
    await waitFor(
      'the simulator got it',
      async () => (await fleet.simMessages({ smsid: r.smsid! })).length > 0,
    );
  }, 60_000);

  test('a retransmitted MESSAGE (same transaction) gets the same answer and sends one SMS', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const answers: string[] = [];
    sock.on('message', (b) => answers.push(b.toString('utf8')));
    const uri = `sip:+36201234571@127.0.0.1:${fleet.sipPort}`;
    const build = (cseq: number, branch: string, authz?: string) =>
      [
        `MESSAGE ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`,
        'From: <sip:alice@smsfleet.test>;tag=rt1',
        'To: <sip:+36201234571@smsfleet.test>',
        'Call-ID: retransmit-1@127.0.0.1',
        `CSeq: ${cseq} MESSAGE`,
        ...(authz ? [authz] : []),
        'Content-Type: text/plain',
        'Content-Length: 11',
        '',
        'Retransmit!',
      ].join('\r\n');
    const send = (m: string) => sock.send(m, fleet.sipPort, '127.0.0.1');
    send(build(1, 'z9hG4bKrt1'));
    const challenge = await waitFor('401', async () => answers.find((a) => a.startsWith('SIP/2.0 401')));
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const md5 = (x: string) => createHash('md5').update(x).digest('hex');
    const ha1 = md5('alice:smsfleet.test:alice-sip-pw');
    const response = md5(`${ha1}:${nonce}:00000001:cn1:auth:${md5(`MESSAGE:${uri}`)}`);
    const authz = `Authorization: Digest username="alice",realm="smsfleet.test",nonce="${nonce}",uri="${uri}",response="${response}",qop=auth,nc=00000001,cnonce="cn1",algorithm=MD5`;
    const authed = build(2, 'z9hG4bKrt2', authz);
    send(authed);
    send(authed);
    await new Promise((r) => setTimeout(r, 300));
    send(authed);
    // The copy that came while the first was being handled gets nothing; the later one the same 202.
    const accepted = await waitFor(
      'two 202s',
      async () => {
        const a = answers.filter((x) => x.startsWith('SIP/2.0 202'));
        return a.length >= 2 ? a : undefined;
      },
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; answers: ${answers.map((a) => a.split('\r\n')[0]).join(' | ')}`);
    });
    const ids = accepted.map((a) => /X-Smsid: (\S+)/i.exec(a)?.[1]);
    expect(new Set(ids).size).toBe(1);
    await waitFor(
      'the simulator got it',
      async () => (await fleet.simMessages({ smsid: ids[0]! })).length > 0,
    );
    await new Promise((r) => setTimeout(r, 500));
    const all = await fleet.simMessages({ limit: '10000' });
    expect(all.filter((m) => m.text === 'Retransmit!')).toHaveLength(1);
    sock.close();
  }, 60_000);

  test('wrong password 403, no credit 403, bad content type 415, too large 413', async () => {
    const before = (await fleet.simStats()).received;
    expect((await message(fleet, 'alice', 'nope', '+36201234567')).statuses).toEqual([401, 403]);
    expect((await message(fleet, 'nobody', 'x', '+36201234567')).statuses).toEqual([401, 403]);
    const broke = await message(fleet, 'bob', 'bob-sip-pw', '+36201234567');
    expect(broke.final, broke.log).toBe(403);
    expect(broke.log).toMatch(/SIP\/2\.0 403 Insufficient Credit/);
    const html = await message(fleet, 'alice', 'alice-sip-pw', '+36201234567', '<b>hi</b>', 'text/html');
    expect(html.final).toBe(415);
    expect(html.log).toMatch(/Accept: text\/plain/);
    const big = await message(fleet, 'alice', 'alice-sip-pw', '+36201234567', 'x'.repeat(400));
    expect(big.final).toBe(413);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await fleet.simStats()).received).toBe(before);
  }, 90_000);

  test('each sendsmsmessages mode accepts and refuses the right targets', async () => {
    const fixed = '+3612345678'; // Budapest fixed line
    const mobile = '+36201234568';
    const name = 'helpdesk';
    const expectations: [string, string, number][] = [
      ['0', mobile, 404],
      ['1', mobile, 202],
      ['1', fixed, 404],
      ['1', name, 404],
      ['2', fixed, 202],
      ['2', '1234', 404],
      ['2', name, 404],
      ['3', '1234', 202],
      ['3', fixed, 202],
      // Every destination is tried, but the send path takes only numbers.
      ['3', name, 404],
    ];
    for (const [mode, target, status] of expectations) {
      await setConfig('sendsmsmessages', mode);
      const r = await message(fleet, 'alice', 'alice-sip-pw', target);
      expect({ mode, target, status: r.final }, r.log).toEqual({ mode, target, status });
    }
    // Mode 1 with a default country and an extra mobile prefix.
    await setConfig('sendsmsmessages', '1');
    await setConfig('sendsmsmessages_country', 'HU');
    expect((await message(fleet, 'alice', 'alice-sip-pw', '06201234569')).final).toBe(202);
    await setConfig('sendsmsmessages_mobileprefixes', '3612');
    expect((await message(fleet, 'alice', 'alice-sip-pw', fixed)).final).toBe(202);
  }, 180_000);

  test('an inbound SMS for a registered user arrives at a sipp UAS as a SIP MESSAGE', async () => {
    const uasPort = await freeSipPort();
    const uasLog = path.join(tmp, 'uas.log');
    const uas = spawn(
      'sipp',
      [
        '-sf',
        path.join(SCENARIOS, 'uas-message.xml'),
        '-i',
        '127.0.0.1',
        '-p',
        String(uasPort),
        '-m',
        '1',
        '-timeout',
        '40s',
        '-timeout_error',
        '-trace_msg',
        '-message_file',
        uasLog,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const uasExit = new Promise<number>((resolve) => uas.on('exit', (c) => resolve(c ?? -1)));
    await registerAliceAndReceive(uasPort, '36209998877', 'Inbound hello to SIP');
    expect(await uasExit).toBe(0);
    const log = fs.readFileSync(uasLog, 'latin1');
    expect(log).toMatch(/MESSAGE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0/);
    expect(log).toMatch(/From: +<sip:36209998877@smsfleet\.test>/);
    expect(log).toMatch(/Inbound hello to SIP/);
    const row = await waitFor(
      'the SIP outcome on the inbox row',
      async () => {
        const x = (await fleet.db('inbox').where({ user_id: aliceId }).first()) as
          { sip_state: string; sip_attempts: number } | undefined;
        return x?.sip_state ? x : undefined;
      },
      15_000,
    );
    expect(row).toMatchObject({ sip_state: 'delivered', sip_attempts: 1 });
  }, 90_000);

  test('a registered contact that never answers: retried, then recorded as failed', async () => {
    await redis.del(sipRegistrationKey(fleet.queuePrefix, 'alice'));
    const deadPort = await freeSipPort();
    await registerAliceAndReceive(deadPort, '36209998866', 'Nobody home');
    const row = await waitFor(
      'the failed SIP outcome',
      async () => {
        const x = (await fleet
          .db('inbox')
          .where({ user_id: aliceId, from_number: '36209998866' })
          .first()) as
          { sip_state: string; sip_attempts: number; sip_detail: string; chat: number } | undefined;
        return x?.sip_state ? x : undefined;
      },
      40_000,
      250,
    );
    // SIP_CHAT_ATTEMPTS (3) rounds, each timing out (SIP_TRANSACTION_TIMEOUT_MS); still in the inbox.
    expect(row).toMatchObject({
      sip_state: 'failed',
      sip_attempts: 3,
      sip_detail: '408 Request Timeout',
      chat: 1,
    });
  }, 90_000);
});
