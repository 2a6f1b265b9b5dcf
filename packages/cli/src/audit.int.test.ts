import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditRepo, UsersRepo, dropDatabase, type AuditEntry, type Knex } from '@smsfleet/db';
import { EventBus } from '@smsfleet/bus';
import { COMMANDS } from './commands.js';
import { CliContext } from './context.js';
import { cliActor } from './audit-commands.js';

/** Every admin change made from the CLI writes exactly one audit row; a refused one writes none. */
const sfx = randomBytes(4).toString('hex');
const env: NodeJS.ProcessEnv = {
  DATABASE_URL: `${(process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '')}/smsfleet_t_audit_${sfx}`,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  QUEUE_PREFIX: `taudit${sfx}`,
  EVENT_PREFIX: `taudit${sfx}`,
};
let ctx: CliContext;
let db: Knex;

beforeAll(async () => {
  ctx = new CliContext(env);
  db = await ctx.database();
});

afterAll(async () => {
  await ctx?.close();
  const bus = await EventBus.connect({ url: env.NATS_URL!, prefix: env.EVENT_PREFIX! });
  await bus.deleteStream().catch(() => undefined);
  await bus.close();
  await dropDatabase(env.DATABASE_URL!);
});

async function run(line: string[]): Promise<string[]> {
  const out: string[] = [];
  await COMMANDS[line[0]!]!.run(ctx, line.slice(1), (l) => out.push(l));
  return out;
}

const count = async () => Number((await db('audit_log').count({ n: '*' }).first())?.n ?? 0);

/** Runs a command and returns the one audit row it wrote (failing when it wrote none or several). */
async function audited(line: string[]): Promise<AuditEntry> {
  const before = await count();
  await run(line);
  expect(await count(), line.join(' ')).toBe(before + 1);
  const [row] = await new AuditRepo(db).list({ limit: 1 });
  expect(row).toMatchObject({ actor: cliActor(), source: 'cli', actorId: null });
  return row!;
}

async function refused(line: string[], message: RegExp): Promise<void> {
  const before = await count();
  await expect(run(line)).rejects.toThrow(message);
  expect(await count(), line.join(' ')).toBe(before);
}

describe('audit log of CLI admin actions', () => {
  test('config, users, credit, gateways, routes, prices, API keys and recharge codes', async () => {
    expect(cliActor()).toMatch(/^cli:.+/);
    expect(await audited(['config', 'set', 'smsprice', '0.05'])).toMatchObject({
      action: 'config.set',
      target: 'smsprice',
      details: { value: '0.05' },
    });
    // A secret key's value never reaches the audit log.
    const secret = `k-${sfx}-secret`;
    const key = await audited(['config', 'set', 'apiv2key', secret]);
    expect(JSON.stringify(key)).not.toContain(secret);
    await refused(['config', 'set', 'smsprice', 'free'], /smsprice/);
    await refused(['config', 'set', 'nosuchkey', '1'], /unknown config key/);

    const add = await audited(['user', 'add', '--name', 'bob', '--password', `pw-${sfx}`, '--credit', '3']);
    expect(add).toMatchObject({ action: 'user.add', details: { name: 'bob', type: 'user' } });
    expect(JSON.stringify(add)).not.toContain(`pw-${sfx}`);
    const bob = (await new UsersRepo(db).findByName('bob'))!;
    expect(add.target).toBe(`user:${bob.id}`);
    await refused(['user', 'add', '--name', 'bob', '--password', 'x'], /already exists/);

    expect(await audited(['user', 'credit', 'bob', '--add', '2.5'])).toMatchObject({
      action: 'user.credit',
      target: `user:${bob.id}`,
      details: { add: '2.5' },
    });
    expect(Number((await new UsersRepo(db).findById(bob.id))!.credit)).toBe(5.5);
    expect(await audited(['user', 'credit', 'bob', '--set', '1'])).toMatchObject({ details: { set: '1' } });
    await refused(['user', 'credit', 'bob', '--add', 'lots'], /decimal/);
    await refused(['user', 'credit', 'nobody', '--add', '1'], /no user/);
    expect(await audited(['user', 'disable', 'bob'])).toMatchObject({ action: 'user.disable' });
    expect((await new UsersRepo(db).findById(bob.id))!.enabled).toBe(false);
    expect(await audited(['user', 'enable', 'bob'])).toMatchObject({ action: 'user.enable' });

    // Provider credentials in the URL are masked in the audit row.
    const gw = await audited([
      'gateway',
      'add',
      '--name',
      'prov',
      '--url',
      `https://acct:gwpass${sfx}@api.example.com/send?to=[tonum]&text=[message]&apikey=gwkey${sfx}`,
    ]);
    expect(gw.action).toBe('gateway.add');
    expect(JSON.stringify(gw)).not.toMatch(new RegExp(`gwpass${sfx}|gwkey${sfx}`));
    expect(JSON.stringify(gw.details)).toContain('api.example.com');
    const gwId = Number(gw.target.split(':')[1]);
    await refused(['gateway', 'add', '--name', 'bad', '--url', 'ftp://x'], /--url/);
    const smpp = await audited([
      'gateway',
      'add',
      '--name',
      'smsc',
      '--url',
      `SMPP;server=10.0.0.5;username=u;password=sm${sfx.slice(0, 6)}`,
    ]);
    expect(JSON.stringify(smpp)).not.toContain(`sm${sfx.slice(0, 6)}`);
    const set = await audited([
      'gateway',
      'set',
      String(gwId),
      `smssendheader=Authorization: Bearer tok${sfx}`,
      'maxParallel=8',
    ]);
    expect(set).toMatchObject({ action: 'gateway.settings', target: `gateway:${gwId}` });
    expect(JSON.stringify(set)).not.toContain(`tok${sfx}`);
    await refused(['gateway', 'set', String(gwId), 'maxParallel=lots'], /maxParallel/);

    const route = await audited(['route', 'add', '--gateway', 'prov', '--prefix', '36', '--priority', '5']);
    expect(route).toMatchObject({ action: 'route.add', details: { pattern: '36', gateway: 'prov' } });
    expect(await audited(['route', 'rm', route.target.split(':')[1]!])).toMatchObject({
      action: 'route.remove',
    });
    await refused(['route', 'rm', '99999'], /no route/);
    const price = await audited(['price', 'add', '--prefix', '3620', '--price', '0.03']);
    expect(price).toMatchObject({ action: 'price.add', details: { prefix: '3620', price: '0.03' } });
    expect(await audited(['price', 'rm', price.target.split(':')[1]!])).toMatchObject({
      action: 'price.remove',
    });
    expect(await audited(['price', 'packet', '--user', 'bob', '--packet', 'gold'])).toMatchObject({
      action: 'price.packet',
      target: `user:${bob.id}`,
    });

    const hookBefore = await count();
    const hookOut = await run(['webhook', 'set', '--user', 'bob', '--url', 'https://hooks.example/x']);
    expect(await count()).toBe(hookBefore + 1);
    const [hook] = await new AuditRepo(db).list({ limit: 1 });
    expect(hook).toMatchObject({ action: 'webhook.set', target: `user:${bob.id}` });
    const signing = /signing secret \(shown once\): (\w+)/.exec(hookOut.join('\n'))?.[1];
    expect(signing).toBeTruthy();
    expect(JSON.stringify(hook)).not.toContain(signing!);

    const before = await count();
    const [token] = await run(['apikey', 'create', '--user', 'bob']);
    expect(await count()).toBe(before + 1);
    const [created] = await new AuditRepo(db).list({ limit: 1 });
    expect(created).toMatchObject({ action: 'apikey.create', details: { user: 'bob' } });
    expect(JSON.stringify(created)).not.toContain(token!);
    expect(await audited(['apikey', 'revoke', created!.target.split(':')[1]!])).toMatchObject({
      action: 'apikey.revoke',
    });
    await refused(['apikey', 'revoke', '99999'], /no active API key/);

    const codesBefore = await count();
    const codes = await run(['recharge', 'add', '--value', '5', '--count', '3']);
    expect(await count()).toBe(codesBefore + 1);
    const [recharge] = await new AuditRepo(db).list({ limit: 1 });
    expect(recharge).toMatchObject({ action: 'recharge.add', details: { value: '5', count: 3 } });
    for (const c of codes) expect(JSON.stringify(recharge)).not.toContain(c.split('\t')[0]!);
  });

  test('audit list prints the newest first, filters, and --json', async () => {
    const lines = await run(['audit', 'list', '--limit', '3']);
    expect(lines[0]).toMatch(/^id\ttime\tactor/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/recharge\.add/);
    const json = JSON.parse(
      (await run(['audit', 'list', '--json', '--action', 'user.*', '--limit', '100']))[0]!,
    ) as AuditEntry[];
    expect(json.map((e) => e.action)).toEqual([
      'user.enable',
      'user.disable',
      'user.credit',
      'user.credit',
      'user.add',
    ]);
    expect(json.every((e) => e.action.startsWith('user.'))).toBe(true);
    expect(json[0]!.id).toBeGreaterThan(json[1]!.id);
    await expect(run(['audit', 'list', '--limit', '0'])).rejects.toThrow(/--limit/);
  });
});
