import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.js';
import { Fleet, waitFor } from './fleet.js';

describe('operator CLI against a running fleet', () => {
  const fleet = new Fleet();
  let env: Record<string, string>;
  beforeAll(async () => {
    await fleet.start();
    env = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  test('config set reaches every running service within a second, without restart', async () => {
    const off = await runCli(['config', 'set', 'enablesms', 'false'], env);
    expect(off).toMatchObject({ code: 0 });
    expect(off.stdout.trim()).toBe('enablesms=false');
    const t0 = Date.now();
    await waitFor(
      'api refuses',
      async () =>
        (
          await fleet.mizu({ apientry: 'asendsms', authkey: fleet.apiKey, bnum: '36201234567', message: 'x' })
        ).body.startsWith('ERROR SMS is disabled'),
      1000,
      20,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await runCli(['config', 'get', 'enablesms'], env)).stdout.trim()).toBe('false');
    expect((await runCli(['config', 'set', 'enablesms', 'true'], env)).code).toBe(0);
    await waitFor(
      'api accepts',
      async () =>
        (
          await fleet.mizu({ apientry: 'asendsms', authkey: fleet.apiKey, bnum: '36201234567', message: 'x' })
        ).body.startsWith('OK'),
      1000,
      20,
    );
  });

  test('the seed misspellings are aliases; bad keys and values are refused and change nothing', async () => {
    expect((await runCli(['config', 'set', 'smstrouting', '0'], env)).stdout.trim()).toBe('smsrouting=0');
    expect((await runCli(['config', 'get', 'smsrouting'], env)).stdout.trim()).toBe('0');
    expect((await runCli(['config', 'set', 'smsrouting', '-1'], env)).code).toBe(0);
    const bad = await runCli(['config', 'set', 'smsrouting', '7'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/smsrouting/);
    expect((await runCli(['config', 'get', 'smsrouting'], env)).stdout.trim()).toBe('-1');
    const unknown = await runCli(['config', 'set', 'nosuchkey', '1'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown config key/);
    const list = await runCli(['config', 'list'], env);
    expect(list.stdout).toMatch(/^smsurl=/m);
    expect(list.stdout).toMatch(/^apiv2key=\*+/m);
    expect(list.stdout).not.toContain(fleet.apiKey);
  });

  test('users and gateways', async () => {
    const u = await runCli(['user', 'add', '--name', 'alice', '--password', 'pw', '--credit', '12.50'], env);
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(/alice \(user\) credit 12\.5/);
    const dup = await runCli(['user', 'add', '--name', 'alice', '--password', 'pw'], env);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/already exists/);
    expect((await runCli(['user', 'add', '--name', 'bob'], env)).stderr).toMatch(/--password is required/);
    expect(
      (await runCli(['user', 'add', '--name', 'bob', '--password', 'x', '--credit', 'lots'], env)).code,
    ).not.toBe(0);
    expect((await runCli(['gateway', 'add', '--name', 'g2', '--url', 'ftp://nope'], env)).stderr).toMatch(
      /--url/,
    );
    const g = await runCli(
      ['gateway', 'add', '--name', 'g2', '--url', 'SMPP;server=127.0.0.1;username=u;password=p'],
      env,
    );
    expect(g.code).toBe(0);
    const list = await runCli(['gateway', 'list'], env);
    expect(list.stdout).toMatch(/\tsim\tenabled\thttp/);
    expect(list.stdout).toMatch(/\tg2\tenabled\tSMPP;/);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
  });

  test('send goes through the API and shows up in cdr list', async () => {
    const s = await runCli(
      ['send', '--to', '36209999999', '--from', '3612345', '--text', 'via the CLI'],
      env,
    );
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^OK /);
    const smsid = s.stdout.trim().slice(3);
    await waitFor('CDR', async () => (await fleet.db('cdr').where({ smsid }).first()) !== undefined);
    const table = await runCli(['cdr', 'list', '--limit', '5'], env);
    expect(table.stdout).toContain(smsid);
    expect(table.stdout).toMatch(/\tSMS\t/);
    const json = JSON.parse((await runCli(['cdr', 'list', '--json', '--limit', '50'], env)).stdout) as {
      smsid: string;
      callee: string;
    }[];
    expect(json.find((r) => r.smsid === smsid)?.callee).toBe('36209999999');
    expect((await runCli(['cdr', 'list', '--limit', 'x'], env)).code).not.toBe(0);
    const noTo = await runCli(['send', '--text', 'x'], env);
    expect(noTo.code).not.toBe(0);
    expect(noTo.stderr).toMatch(/--to is required/);
    const badTo = await runCli(['send', '--to', 'abc', '--text', 'x'], env);
    expect(badTo.code).not.toBe(0);
    expect(badTo.stderr).toMatch(/ERROR invalid target number/);
  });
});
