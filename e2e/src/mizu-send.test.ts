import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UsersRepo } from '@smsfleet/db';
import { runCli } from './cli.js';
import { Fleet, waitFor } from './fleet.js';

/** The Mizu send entries through the whole fleet: API -> dispatcher -> simulator -> verifier -> API. */
describe('Mizu send entries end to end', () => {
  const fleet = new Fleet({ config: { smsprice: '0.25', smssynctimeoutms: '20000' } });
  let userId = 0;
  beforeAll(async () => {
    await fleet.start();
    userId = (
      await new UsersRepo(fleet.db).create({ name: 'eve', password: 'eve-pw', type: 'user', credit: '1' })
    ).id;
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  test('asendsmssync answers OK once the final state is known', async () => {
    const r = await fleet.mizu({
      apientry: 'asendsmssync',
      authkey: fleet.apiKey,
      bnum: '36205000001',
      message: 'sync hello',
      format: 'json',
    });
    const body = JSON.parse(r.body) as { status: string; smsid: string; state: string };
    // No verification configured: the verifier finalises a submitted message as `unknown`.
    expect(body).toMatchObject({ status: 'OK', state: 'unknown' });
    expect(await fleet.simMessages({ smsid: body.smsid })).toHaveLength(1);
  });

  test('sendsmssync answers ERROR when the provider rejects the number, and unicode arrives intact', async () => {
    await fetch(`${fleet.url('smsc-sim')}/_sim/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ failNumbers: ['36205000002'] }),
    });
    const bad = await fleet.mizu({
      apientry: 'sendsmssync',
      authid: 'eve',
      authpwd: 'eve-pw',
      to: '36205000002',
      txt: 'x',
    });
    expect(bad.body).toMatch(/^ERROR failed: .*\(smsid [0-9a-f-]{36}\)$/);

    const text = 'Zsófi: Привет 👋 ünnep';
    const ok = await fleet.mizu({
      apientry: 'sendsmssync',
      authid: 'eve',
      authpwd: 'eve-pw',
      to: '36205000003',
      txt: text,
    });
    expect(ok.body).toMatch(/^OK [0-9a-f-]{36}$/);
    const [got] = await fleet.simMessages({ smsid: ok.body.slice(3) });
    expect(got).toMatchObject({ to: '36205000003', text });
    // 0.25 reserved per message; billing may give back the failed one's, never the other one's.
    const eve = await new UsersRepo(fleet.db).findById(userId);
    expect(Number(eve!.credit)).toBeLessThanOrEqual(0.75);
  });

  test('./smsfleet console "asendsms,TONUMBER>Hello word" sends through the running fleet', async () => {
    const env = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
    const r = await runCli(['console', 'asendsms,36205000004>Hello word'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK [0-9a-f-]{36}\n$/);
    const smsid = r.stdout.trim().slice(3);
    const got = await waitFor('the simulator got it', async () => (await fleet.simMessages({ smsid }))[0]);
    expect(got).toMatchObject({ to: '36205000004', text: 'Hello word' });

    const sync = await runCli(['console', 'asendsmssync,36205000005,1000>Synced'], env);
    expect(sync.stdout).toMatch(/^OK [0-9a-f-]{36}\n$/);
    const bad = await runCli(['console', 'asendsms,not-a-number>x'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: ERROR invalid target number: not-a-number\n');
  });
});
