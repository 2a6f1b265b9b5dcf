import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.js';
import { Fleet, waitFor, type ServiceName } from './fleet.js';

/**
 * Hashed passwords and the ban list across real processes: users made and re-passworded by the CLI
 * (which seals with the fleet's SMSFLEET_SECRET_KEY), authmd5 answered by the api-gateway from the
 * sealed copy, failed logins banning the address fleet-wide, `smsfleet ban list|clear`, and no
 * password in any service log.
 */
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const PW1 = `first-${randomBytes(6).toString('hex')}`;
const PW2 = `second-${randomBytes(6).toString('hex')}`;
const WRONG = `wrong-${randomBytes(6).toString('hex')}`;

describe('hashed passwords and the failed-login ban list, fleet-wide', () => {
  const fleet = new Fleet({
    only: ['api-gateway'],
    config: {
      authban_ignoreip: '',
      authban_slowafter: '0',
      authban_addressafter: '3',
      authban_userafter: '1000',
    },
  });
  let env: Record<string, string>;
  const send = (auth: Record<string, string>) =>
    fleet.mizu({ apientry: 'sendsms', bnum: '36201234567', message: 'hi', ...auth });
  const md5Auth = (name: string, pw: string) => {
    const authsalt = randomBytes(6).toString('hex');
    return { authid: name, authsalt, authmd5: md5(`${name}:${pw}:${authsalt}`) };
  };

  beforeAll(async () => {
    await fleet.start();
    env = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  test('CLI-made users: authpwd and authmd5 work, passwd changes it, the table holds no password', async () => {
    const add = await runCli(['user', 'add', '--name', 'carol', '--password', PW1, '--credit', '5'], env);
    expect(add).toMatchObject({ code: 0 });
    expect((await send({ authid: 'carol', authpwd: PW1 })).body).toMatch(/^OK /);
    expect((await send(md5Auth('carol', PW1))).body).toMatch(/^OK /);
    expect(JSON.stringify(await fleet.db('users').select('*'))).not.toContain(PW1);

    expect(await runCli(['user', 'passwd', '--name', 'carol', '--password', PW2], env)).toMatchObject({
      code: 0,
      stdout: 'password of carol changed\n',
    });
    await waitFor(
      'the new password',
      async () => (await send({ authid: 'carol', authpwd: PW2 })).body.startsWith('OK'),
      10_000,
      200,
    );
    expect((await send(md5Auth('carol', PW2))).body).toMatch(/^OK /);
    expect((await send({ authid: 'carol', authpwd: PW1 })).body).toBe('ERROR authentication failed');
    expect((await runCli(['user', 'passwd', '--name', 'nobody', '--password', 'x'], env)).stderr).toMatch(
      /no user named nobody/,
    );
    expect(JSON.stringify(await fleet.db('users').select('*'))).not.toContain(PW2);
  });

  test('failed logins ban the address; ban list shows it, ban clear lifts it', async () => {
    await runCli(['ban', 'clear', '--all'], env);
    await new Promise((r) => setTimeout(r, 1200));
    for (let i = 0; i < 3; i++) await send({ authid: 'carol', authpwd: WRONG });
    const banned = await send({ authid: 'carol', authpwd: PW2 });
    expect(banned.body).toMatch(/^ERROR too many failed logins, banned until /);
    const list = await runCli(['ban', 'list'], env);
    expect(list.stdout).toMatch(/^address\t127\.0\.0\.1\tuntil \d{4}-/m);
    expect((await runCli(['ban', 'clear'], env)).stderr).toMatch(/exactly one of/);
    const clear = await runCli(['ban', 'clear', '--address', '127.0.0.1'], env);
    expect(clear).toMatchObject({ code: 0, stdout: 'lifted 1 ban; failures forgotten\n' });
    await waitFor(
      'unbanned',
      async () => (await send({ authid: 'carol', authpwd: PW2 })).body.startsWith('OK'),
      5000,
      100,
    );
    expect((await runCli(['ban', 'list'], env)).stdout).toBe('no bans\n');
  });

  test('no password appears in any log', () => {
    for (const name of ['api-gateway'] as ServiceName[]) {
      const log = fleet.log(name);
      for (const secret of [PW1, PW2, WRONG, fleet.adminPassword]) expect(log).not.toContain(secret);
    }
  });
});
