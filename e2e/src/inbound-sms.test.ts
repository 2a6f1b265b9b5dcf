import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.js';
import { Fleet, freePort, waitFor } from './fleet.js';

/**
 * Inbound SMS across the whole fleet: the simulator's SMSC sends a 3-part MO (parts out of order)
 * over a transceiver bind, the dispatcher publishes the parts on `mo`, the inbound service
 * reassembles and delivers it to the owner of the number: it shows in GET /v1/inbox and in
 * `smsfleet inbox list`. Then an SMS command (add credit from a recharge code made by the CLI)
 * arrives the same way, credits the user once, and its answer goes back to the SMSC.
 */
describe('inbound SMS from the SMSC simulator', () => {
  let smppPort = 0;
  let fleet: Fleet;
  let env: Record<string, string>;
  let doraId = 0;

  beforeAll(async () => {
    smppPort = await freePort();
    fleet = new Fleet({
      env: { 'smsc-sim': { SIM_SMPP_PORT: String(smppPort) } },
      config: {
        smsrouting: '0',
        smsurl: `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet;bind=transceiver;timeout=5`,
        smsreceive_route: '1',
      },
    });
    await fleet.start();
    env = fleet.infraEnv;
  }, 120_000);
  afterAll(() => fleet?.stop(), 60_000);

  const smpp = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await (await fetch(`${fleet.url('smsc-sim')}/_sim/smpp${path}`, init)).json()) as T;
  const mo = (body: Record<string, unknown>) =>
    smpp<{ parts: number }>('/mo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('a 3-part MO out of order reaches the user inbox once, whole', async () => {
    const add = await runCli(
      ['user', 'add', '--name', 'dora', '--password', 'dora-pw', '--credit', '1'],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    doraId = Number(/^user (\d+) /m.exec(add.stdout)?.[1]);
    const num = await runCli(['number', 'add', '--user', 'dora', '--number', '36700000042'], env);
    expect(num.stdout.trim()).toBe('36700000042 registered to dora');
    const mobile = await runCli(['number', 'add', '--user', 'dora', '--number', '36300000042'], env);
    expect(mobile.code, mobile.stderr).toBe(0);

    await waitFor(
      'the transceiver bind',
      async () => (await smpp<{ binds: number }>('/stats')).binds >= 1,
      30_000,
    );
    const text =
      'This inbound message is long enough to need three parts on the way from the mobile network. ' +
      'The SMSC sends them out of order and the inbound service must put them back together ' +
      'before the user sees a single, whole message in the inbox.';
    expect(
      await mo({ from: '36201112233', to: '36700000042', text, parts: 3, order: [3, 1, 2] }),
    ).toMatchObject({
      parts: 3,
    });

    const inbox = async () => {
      const r = await fetch(`${fleet.url('api-gateway')}/v1/inbox?userId=${doraId}`, {
        headers: { authorization: `Bearer ${fleet.apiKey}` },
      });
      return ((await r.json()) as { messages: { text: string; from: string; parts: number }[] }).messages;
    };
    const got = await waitFor('the message in the inbox', async () => {
      const m = await inbox();
      return m.length ? m : undefined;
    });
    expect(got).toEqual([expect.objectContaining({ from: '36201112233', text, parts: 3 })]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await inbox()).toHaveLength(1);

    // Dora logs into the portal and finds it there too.
    const api = fleet.url('api-gateway');
    const login = await fetch(`${api}/portal/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: api },
      body: new URLSearchParams({ name: 'dora', password: 'dora-pw' }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/=/);
    const portal = (await (await fetch(`${api}/portal/api/inbox`, { headers: { cookie } })).json()) as {
      messages: { from: string; text: string }[];
    };
    expect(portal.messages).toEqual([expect.objectContaining({ from: '36201112233', text })]);

    const list = await runCli(['inbox', 'list', '--user', 'dora'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('36201112233 -> 36700000042');
    expect(list.stdout).toContain(JSON.stringify(text));
    const cdr = (await fleet.db('cdr').where({ direction: 'inbound', user_id: doraId }).select()) as {
      caller: string;
      segments: number;
      state: string;
    }[];
    expect(cdr).toEqual([
      expect.objectContaining({ caller: '36201112233', segments: 3, state: 'delivered' }),
    ]);
  }, 120_000);

  test('an SMS command from the SMSC: recharge code credits once and the answer goes back', async () => {
    const made = await runCli(['recharge', 'add', '--value', '2.5', '--count', '2'], env);
    expect(made.code, made.stderr).toBe(0);
    const codes = made.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]!);
    expect(codes).toHaveLength(2);
    // Sent to the access number (no user owns it): a command, authenticated by dora's mobile.
    await mo({ from: '36300000042', to: '1777', text: `c ${codes[0]}` });
    const answer = await waitFor(
      'the answer at the SMSC',
      async () => {
        const m = await smpp<{ shortMessage?: string; text?: string; destinationAddr: string }[]>(
          '/messages?destination=36300000042',
        );
        return m.length ? m : undefined;
      },
      30_000,
    );
    expect(JSON.stringify(answer)).toContain('OK credit added: 2.5, balance 3.5');
    await mo({ from: '36300000042', to: '1777', text: `c ${codes[0]}` });
    await waitFor(
      'the refusal at the SMSC',
      async () =>
        JSON.stringify(await smpp('/messages?destination=36300000042')).includes(
          'recharge code already used',
        ),
      30_000,
    );
    const credit = (await fleet.db('users').select('credit').where({ id: doraId }).first()) as {
      credit: string;
    };
    expect(credit.credit).toBe('3.500000');
    const codesList = await runCli(['recharge', 'list'], env);
    expect(codesList.stdout).toMatch(new RegExp(`${codes[0]}\\t2.500000\\tused by user ${doraId}`));
  }, 120_000);
});
