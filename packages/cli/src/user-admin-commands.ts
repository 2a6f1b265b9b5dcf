import { parseArgs } from 'node:util';
import { AuditRepo, UsersRepo } from '@smsfleet/db';
import { isDecimal } from '@smsfleet/core';
import { cliActor } from './audit-commands.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

export const USER_ADMIN_USAGE = 'user credit NAME (--add X | --set X) | user enable NAME | user disable NAME';

/**
 * `user credit|enable|disable`: admin changes to an existing user, each written to the audit log
 * (the credit change in the same transaction as its audit row).
 */
export async function userAdminCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const db = await ctx.database();
  const users = new UsersRepo(db);
  const audit = new AuditRepo(db);
  const actor = cliActor(ctx.env);
  const userOf = async (name: string | undefined) => {
    if (!name) throw new CliError(`usage: smsfleet ${USER_ADMIN_USAGE}`);
    const u = /^\d+$/.test(name) ? await users.findById(Number(name)) : await users.findByName(name);
    if (!u) throw new CliError(`no user ${name}`);
    return u;
  };
  if (sub === 'credit') {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { add: { type: 'string' }, set: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const u = await userOf(positionals[0]);
    if ((values.add === undefined) === (values.set === undefined))
      throw new CliError('give exactly one of --add X (may be negative) or --set X');
    const amount = (values.add ?? values.set)!.trim();
    const signed = amount.startsWith('-') ? amount.slice(1) : amount;
    if (!isDecimal(signed) || (values.set !== undefined && amount.startsWith('-') && Number(signed) !== 0))
      throw new CliError(`the amount must be a decimal number, got "${amount}"`);
    await db.transaction(async (trx) => {
      if (values.add !== undefined) await users.addCredit(u.id, amount, trx);
      else await users.setCredit(u.id, amount, trx);
      await audit.record(
        {
          actor,
          source: 'cli',
          action: 'user.credit',
          target: `user:${u.id}`,
          details: {
            name: u.name,
            ...(values.add !== undefined ? { add: amount } : { set: amount }),
            before: u.credit,
          },
        },
        trx,
      );
    });
    await ctx.notify('users');
    const after = await users.findById(u.id);
    out(`user ${u.id} ${u.name} credit ${after?.credit ?? '?'}`);
    return;
  }
  if (sub === 'enable' || sub === 'disable') {
    const u = await userOf(rest[0]);
    const enabled = sub === 'enable';
    await db.transaction(async (trx) => {
      await trx('users').where({ id: u.id }).update({ enabled });
      await audit.record(
        { actor, source: 'cli', action: `user.${sub}`, target: `user:${u.id}`, details: { name: u.name } },
        trx,
      );
    });
    await ctx.notify('users');
    out(`user ${u.id} ${u.name} ${enabled ? 'enabled' : 'disabled'}`);
    return;
  }
  throw new CliError(`usage: smsfleet ${USER_ADMIN_USAGE}`);
}
