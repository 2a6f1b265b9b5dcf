import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiKeysRepo, RoutesRepo, UsersRepo } from '@smsfleet/db';
import { runCli } from './cli.js';
import { Fleet, freePort, waitFor, type ServiceName } from './fleet.js';

/**
 * Secrets never reach logs, metrics or error answers. A fleet configured with every kind of secret
 * (user and admin passwords, the server key `apiv2key`, a /v1 bearer key, an SMPP bind password, a
 * wrong SMPP password, an HTTP provider URL with userinfo and a password parameter, an SMTP
 * password) carries traffic, failed logins and bad requests; then every service log, every
 * /metrics page and every answer is searched for each secret.
 */
const word = (n = 8) => randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);
const S = {
  adminPassword: `adm${word(12)}`,
  alicePassword: `ali${word(12)}`,
  wrongPassword: `wrg${word(12)}`,
  apiv2key: `key${word(20)}`,
  wrongKey: `wky${word(20)}`,
  // SMPP passwords are at most 8 characters.
  smppPassword: `P${word(7)}`,
  smppWrongPassword: `W${word(7)}`,
  httpUserinfoPassword: `usr${word(12)}`,
  httpQueryPassword: `qry${word(12)}`,
  smtpPassword: `smt${word(12)}`,
};

describe('secrets never in logs, metrics or error answers', () => {
  let fleet: Fleet;
  let smppPort = 0;
  let env: Record<string, string>;
  let bearer = '';
  let stopped = false;
  /** Every answer the fleet gave in this test (status line, headers, body). */
  const answers: string[] = [];

  const record = async (what: string, res: Response): Promise<string> => {
    const body = await res.text();
    answers.push(
      `${what} -> ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}`,
    );
    return body;
  };
  const api = (p: string) => `${fleet.url('api-gateway')}${p}`;
  const mizu = async (params: Record<string, string>, method: 'GET' | 'POST' = 'GET') => {
    const q = new URLSearchParams(params).toString();
    const res =
      method === 'GET'
        ? await fetch(api(`/mvapireq/?${q}`))
        : await fetch(api('/mvapireq/'), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: q,
          });
    return record(`mizu ${params.apientry ?? ''}`, res);
  };

  beforeAll(async () => {
    smppPort = await freePort();
    const smtpPort = await freePort(); // nothing listens there: every mail attempt fails
    fleet = new Fleet({
      env: {
        'smsc-sim': {
          SIM_SMPP_PORT: String(smppPort),
          SIM_SMPP_SYSTEM_ID: 'fleetesme',
          SIM_SMPP_PASSWORD: S.smppPassword,
        },
        dispatcher: { SEND_MAX_ATTEMPTS: '2', RETRY_BASE_DELAY_MS: '200' },
      },
      config: {
        smsrouting: '1',
        smtpserver: '127.0.0.1',
        smtpport: String(smtpPort),
        smtpusername: 'mailer',
        smtppassword: S.smtpPassword,
        smsreceive_route: '2',
        smsreceive_ip: '127.0.0.1,::1,::ffff:127.0.0.1',
      },
      readyTimeoutMs: 120_000,
    });
    fleet.apiKey = S.apiv2key;
    fleet.adminPassword = S.adminPassword;
    await fleet.start();
    env = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
    const sim = fleet.url('smsc-sim');
    const cli = async (...args: string[]) => {
      const r = await runCli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const alice = await cli(
      'user',
      'add',
      '--name',
      'alice',
      '--password',
      S.alicePassword,
      '--credit',
      '100',
    );
    answers.push(`cli user add\n${alice.stdout}${alice.stderr}`);
    const httpGw = await cli(
      'gateway',
      'add',
      '--name',
      'http-creds',
      '--url',
      `http://acct:${S.httpUserinfoPassword}@127.0.0.1:${new URL(sim).port}/send?to=[tonum]&from=[fromnum]&text=[message]&id=[smsid]&password=${S.httpQueryPassword}`,
    );
    const smppGw = await cli(
      'gateway',
      'add',
      '--name',
      'smpp-good',
      '--url',
      `SMPP;server=127.0.0.1;serverport=${smppPort};username=fleetesme;password=${S.smppPassword};bind=transceiver;timeout=5`,
    );
    const badGw = await cli(
      'gateway',
      'add',
      '--name',
      'smpp-badpw',
      '--url',
      `SMPP;server=127.0.0.1;serverport=${smppPort};username=fleetesme;password=${S.smppWrongPassword};timeout=5`,
    );
    const list = await cli('gateway', 'list');
    // What the CLI prints about gateways is operator output, masked like everything else.
    answers.push(`cli gateway add/list\n${httpGw.stdout}${smppGw.stdout}${badGw.stdout}${list.stdout}`);
    const users = new UsersRepo(fleet.db);
    const routes = new RoutesRepo(fleet.db);
    const id = async (name: string) => (await users.findByName(name))!.id;
    for (const [prefix, name] of [
      ['3620', 'http-creds'],
      ['3670', 'smpp-good'],
      ['3690', 'smpp-badpw'],
      ['36', 'sim'],
    ] as const)
      await routes.add({
        patternType: 'prefix',
        pattern: prefix,
        gatewayId: await id(name),
        priority: 1,
        weight: 1,
      });
    await cli('number', 'add', '--user', 'alice', '--number', '36700000077');
    await cli('number', 'contact', '--user', 'alice', '--email', 'alice@example.com');
    bearer = (await new ApiKeysRepo(fleet.db).create(await id('alice'), 'secrets-test')).token;
    // Routes and gateways reach the services by notification or poll (5-10 s).
    await new Promise((r) => setTimeout(r, 11_000));
  }, 240_000);

  afterAll(async () => {
    if (!stopped) await fleet?.stop();
  }, 60_000);

  test('traffic, failed authentications and bad requests leak no secret', async () => {
    // Good sends through each gateway, with each kind of authentication.
    const ok: string[] = [];
    const expectOk = (body: string) => {
      expect(body).toMatch(/^OK /);
      ok.push(...body.slice(3).trim().split(','));
    };
    expectOk(
      await mizu({
        apientry: 'asendsms',
        authkey: S.apiv2key,
        anum: '1000',
        bnum: '36201234567,36701234567',
        message: 'hello by key',
      }),
    );
    expectOk(
      await mizu(
        {
          apientry: 'sendsms',
          authid: 'alice',
          authpwd: S.alicePassword,
          anum: '1000',
          bnum: '36201234568',
          message: 'hello by pwd',
        },
        'POST',
      ),
    );
    const salt = word(16);
    const md5 = createHash('md5').update(`alice:${S.alicePassword}:${salt}`).digest('hex');
    expectOk(
      await mizu({
        apientry: 'sendsms',
        authid: 'alice',
        authmd5: md5,
        authsalt: salt,
        bnum: '36701234569',
        message: 'hello by md5',
      }),
    );
    expectOk(
      await mizu({
        apientry: 'asendsms',
        authid: 'admin',
        authpwd: S.adminPassword,
        bnum: '36301234567',
        message: 'admin pwd',
      }),
    );
    // A gateway whose SMPP bind is refused (wrong password): the dispatcher keeps trying.
    expect(
      await mizu({
        apientry: 'asendsms',
        authkey: S.apiv2key,
        bnum: '36901234567',
        message: 'to the bad bind',
      }),
    ).toMatch(/^OK /);
    const v1 = await fetch(api('/v1/messages'), {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: ['36201234570'], text: 'hello v1' }),
    });
    const v1body = await record('v1 send', v1);
    expect(v1.status, v1body).toBeLessThan(300);

    // Failed authentications of every kind.
    for (const params of <Record<string, string>[]>[
      { apientry: 'asendsms', authkey: S.wrongKey, bnum: '36201234567', message: 'x' },
      { apientry: 'sendsms', authid: 'alice', authpwd: S.wrongPassword, bnum: '36201234567', message: 'x' },
      { apientry: 'sendsms', authid: 'nobody', authpwd: S.alicePassword, bnum: '36201234567', message: 'x' },
      {
        apientry: 'sendsms',
        authid: 'alice',
        authmd5: createHash('md5').update(S.wrongPassword).digest('hex'),
        authsalt: word(),
        bnum: '1',
        message: 'x',
      },
      // A replayed salt.
      {
        apientry: 'sendsms',
        authid: 'alice',
        authmd5: md5,
        authsalt: salt,
        bnum: '36201234567',
        message: 'x',
      },
      // An end user on an admin entry, with the right password.
      { apientry: 'asendsms', authid: 'alice', authpwd: S.alicePassword, bnum: '36201234567', message: 'x' },
    ])
      expect(await mizu(params)).toMatch(/^ERROR/);
    for (const [area, name, pw] of [
      ['ops', 'admin', S.wrongPassword],
      ['ops', 'alice', S.alicePassword],
      ['portal', 'alice', S.wrongPassword],
      ['portal', 'alice', S.alicePassword],
      ['ops', 'admin', S.adminPassword],
    ] as const) {
      const r = await fetch(api(`/${area}/login`), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name, password: pw }).toString(),
      });
      await record(`${area} login`, r);
    }
    for (const auth of [
      `Bearer ${S.wrongKey}`,
      `Bearer ${S.apiv2key}x`,
      `Basic ${Buffer.from(`alice:${S.alicePassword}`).toString('base64')}`,
    ]) {
      const r = await fetch(api('/v1/messages'), {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ to: ['36201234567'], text: 'x' }),
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      await record('v1 bad auth', r);
    }

    // Bad requests carrying secrets in their parameters.
    for (const params of <Record<string, string>[]>[
      { apientry: 'asendsms', authkey: S.apiv2key, bnum: 'not-a-number', message: 'x' },
      { apientry: 'asendsms', authkey: S.apiv2key, bnum: '36201234567', message: '' },
      { apientry: 'nosuchentry', authkey: S.apiv2key, authpwd: S.alicePassword },
      {
        apientry: 'sendsms',
        authid: 'alice',
        authpwd: S.alicePassword,
        bnum: 'no-number',
        message: 'x'.repeat(20_000),
      },
      {
        apientry: 'asendsms',
        authkey: S.apiv2key,
        bnum: Array.from({ length: 1200 }, (_, i) => `3620${i}`).join(','),
        message: 'too many',
      },
    ]) {
      // Long ones as a form POST: a 20 kB query string is refused by Node before any handler.
      const body = await mizu(params, JSON.stringify(params).length > 4000 ? 'POST' : 'GET');
      expect(body, params.apientry).toMatch(/^ERROR/);
    }
    const junk = await fetch(api('/v1/messages'), {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: `{"to": ["${S.alicePassword}"], "text": `,
    });
    expect(junk.status).toBe(400);
    await record('v1 malformed json', junk);
    const badTo = await fetch(api('/v1/messages'), {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        to: ['36201234567'],
        text: 'x',
        callbackUrl: `http://u:${S.httpQueryPassword}@[bad`,
      }),
    });
    await record('v1 bad field', badTo);
    // An inbound SMS to alice, mailed (smsreceive_route 2) through an SMTP server that is down.
    expect(
      await mizu({ apientry: 'smsreceive', from: '36201112233', to: '36700000077', message: 'mail me' }),
    ).toMatch(/^OK/);

    // Let every good message reach its CDR and the bad bind be refused a few times.
    await waitFor(
      'CDRs of the good messages',
      async () =>
        Number((await fleet.db('cdr').whereIn('smsid', ok).count({ n: '*' }).first())?.n) >= ok.length,
      90_000,
      500,
    );
    await waitFor(
      'a refused bind in the dispatcher log',
      async () => /ESME_RINVPASWD|bind.*(refused|failed)/i.test(fleet.log('dispatcher')),
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 3_000));

    const metrics: string[] = [];
    for (const name of fleet.procs.keys()) {
      const r = await fetch(`${fleet.url(name)}/metrics`).catch(() => undefined);
      if (r?.ok) metrics.push(`${name}\n${await r.text()}`);
    }
    expect(metrics.length).toBeGreaterThanOrEqual(5);
    // Stop first: shutdown lines are searched too.
    await fleet.stop();
    stopped = true;

    const logs = fs
      .readdirSync(fleet.logDir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => ({ f, text: fs.readFileSync(path.join(fleet.logDir, f), 'utf8') }));
    expect(logs.map((l) => l.f).sort()).toEqual(
      (
        ['api-gateway', 'billing', 'dispatcher', 'inbound', 'smsc-sim', 'verifier'] satisfies ServiceName[]
      ).map((n) => `${n}.log`),
    );
    // The logs did record the traffic and the failures (so an empty log cannot pass).
    const logOf = (f: string) => logs.find((l) => l.f === `${f}.log`)!.text;
    expect(logOf('api-gateway')).toMatch(/sms state/);
    expect(logOf('api-gateway')).toMatch(/web login refused/);
    expect(logOf('dispatcher')).toMatch(/ESME_RINVPASWD/);
    expect(logOf('inbound')).toMatch(/email not sent/);
    const haystacks = [
      ...logs.map((l) => ({ where: `log ${l.f}`, text: l.text })),
      ...metrics.map((m) => ({ where: `metrics ${m.split('\n')[0]}`, text: m })),
      ...answers.map((a) => ({ where: `answer ${a.split('\n')[0]}`, text: a })),
    ];
    const leaks: string[] = [];
    for (const [name, secret] of Object.entries(S))
      for (const h of haystacks) {
        const i = h.text.indexOf(secret);
        if (i >= 0) leaks.push(`${name} in ${h.where}: …${h.text.slice(Math.max(0, i - 120), i + 40)}…`);
      }
    expect(leaks).toEqual([]);
  });
});
