import { parseArgs } from 'node:util';
import { isDecimal } from '@smsfleet/core';
import { InboxRepo, RechargeRepo, RegisteredNumbersRepo, UsersRepo } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { cliAudit } from './audit-commands.js';

type Out = (line: string) => void;

export const RECHARGE_USAGE = 'recharge add --value X [--count N] | recharge list [--unused]';
export const INBOX_USAGE = 'inbox list [--user NAME] [--limit N] [--json]';
export const NUMBER_USAGE =
  'number add --user NAME --number N | number list --user NAME | number remove --number N | number contact --user NAME [--email E] [--pin P] [--chat URI]';

/** `recharge add --value X [--count N]`: single-use codes for the SMS command `c`. */
export async function rechargeCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const repo = new RechargeRepo(await ctx.database());
  if (sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: { value: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    if (!values.value || !isDecimal(values.value) || Number(values.value) <= 0)
      throw new CliError('--value is required: a positive decimal number (the credit a code adds)');
    const count = values.count === undefined ? 1 : Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 10_000)
      throw new CliError('--count must be an integer between 1 and 10000');
    const codes = await repo.create(values.value, count);
    // The codes themselves are bearer credit: only their ids go to the audit log.
    await cliAudit(ctx, 'recharge.add', `recharge:${codes[0]?.id ?? ''}`, {
      value: values.value,
      count,
      firstId: codes[0]?.id,
      lastId: codes[codes.length - 1]?.id,
    });
    if (values.json) out(JSON.stringify(codes.map((c) => ({ id: c.id, code: c.code, value: c.value }))));
    else for (const c of codes) out(`${c.code}\t${c.value}`);
    return;
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { unused: { type: 'boolean' } }, strict: true });
    for (const c of await repo.list({ unusedOnly: values.unused }))
      out(
        `${c.id}\t${c.code}\t${c.value}\t${c.usedAt ? `used by user ${c.usedBy} at ${c.usedAt.toISOString()}` : 'unused'}`,
      );
    return;
  }
  throw new CliError(`usage: smsfleet ${RECHARGE_USAGE}`);
}

async function userIdOf(ctx: CliContext, name: string | undefined): Promise<number> {
  if (!name) throw new CliError('--user is required');
  const u = await new UsersRepo(await ctx.database()).findByName(name);
  if (!u) throw new CliError(`no user named ${name}`);
  return u.id;
}

/** `inbox list`: inbound messages, newest first (every user's, or one user's inbox). */
export async function inboxCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new CliError(`usage: smsfleet ${INBOX_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: { user: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer');
  const inbox = new InboxRepo(await ctx.database());
  const rows =
    values.user !== undefined
      ? await inbox.listForUser(await userIdOf(ctx, values.user), { limit })
      : await inbox.listAll({ limit });
  if (values.json) {
    out(JSON.stringify(rows));
    return;
  }
  for (const m of rows)
    out(
      [
        m.id,
        m.receivedAt.toISOString(),
        `user ${m.userId}`,
        `${m.from} -> ${m.to}`,
        m.chat ? 'inbox' : '-',
        `email:${m.emailState}`,
        m.command ? `command:${m.command}` : '',
        JSON.stringify(m.text),
      ].join('\t'),
    );
}

/** `number ...`: the users' registered numbers (inbound target, caller-id) and contact data. */
export async function numberCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const repo = new RegisteredNumbersRepo(await ctx.database());
  const { values } = parseArgs({
    args: rest,
    options: {
      user: { type: 'string' },
      number: { type: 'string' },
      email: { type: 'string' },
      pin: { type: 'string' },
      chat: { type: 'string' },
    },
    strict: true,
  });
  const validNumber = (n: string | undefined) => {
    if (!n || !/^\+?\d{3,20}$/.test(n.replace(/[\s\-().]/g, '')))
      throw new CliError('--number is required: digits with an optional leading +');
    return n.replace(/[\s\-().]/g, '');
  };
  if (sub === 'add') {
    const userId = await userIdOf(ctx, values.user);
    const n = validNumber(values.number);
    const r = await repo.add(userId, n);
    if (r === 'taken') throw new CliError(`${n} is registered to another user`);
    await ctx.notify('users');
    out(
      r === 'added' ? `${n} registered to ${values.user}` : `${n} was already registered to ${values.user}`,
    );
    return;
  }
  if (sub === 'remove') {
    const n = validNumber(values.number);
    if (!(await repo.remove(n))) throw new CliError(`${n} is not registered`);
    await ctx.notify('users');
    out(`${n} removed`);
    return;
  }
  if (sub === 'list') {
    for (const n of await repo.listForUser(await userIdOf(ctx, values.user))) out(n);
    return;
  }
  if (sub === 'contact') {
    const userId = await userIdOf(ctx, values.user);
    if (values.email !== undefined && values.email !== '' && !/^[^\s@]+@[^\s@]+$/.test(values.email))
      throw new CliError('--email is not an email address');
    await repo.setContact(userId, { email: values.email, pin: values.pin, chatEndpoint: values.chat });
    await ctx.notify('users');
    const u = (await repo.userById(userId))!;
    out(`${u.name}: email ${u.email || '-'}, pin ${u.pinHash ? 'set' : '-'}, chat ${u.chatEndpoint || '-'}`);
    return;
  }
  throw new CliError(`usage: smsfleet ${NUMBER_USAGE}`);
}
