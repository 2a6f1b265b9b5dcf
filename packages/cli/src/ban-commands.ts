import { parseArgs } from 'node:util';
import { createRedis } from '@smsfleet/queue';
import { AuthGuard } from '@smsfleet/security';
import { cliAudit } from './audit-commands.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

export const BAN_USAGE = 'ban list | ban clear --address A | --user U | --all';

/**
 * `smsfleet ban list` shows the fleet-wide bans of failed authentications (client addresses and
 * user names, with their end); `ban clear` lifts one (and forgets its counted failures) or all.
 * Running api-gateways notice within a second.
 */
export async function banCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'clear') throw new CliError(`usage: smsfleet ${BAN_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: { address: { type: 'string' }, user: { type: 'string' }, all: { type: 'boolean' } },
    strict: true,
  });
  const redis = createRedis(ctx.infra.redisUrl, 'cli');
  try {
    const guard = new AuthGuard(redis, ctx.infra.queuePrefix);
    if (sub === 'list') {
      const bans = await guard.list();
      if (bans.length === 0) out('no bans');
      for (const b of bans) out(`${b.scope}\t${b.id}\tuntil ${new Date(b.until).toISOString()}`);
      return;
    }
    const chosen = [values.address !== undefined, values.user !== undefined, values.all === true].filter(
      Boolean,
    );
    if (chosen.length !== 1)
      throw new CliError('ban clear needs exactly one of --address A, --user U, --all');
    if ((values.address ?? values.user) === '') throw new CliError('--address / --user must not be empty');
    const what = values.all ? ('all' as const) : { address: values.address, user: values.user };
    const lifted = await guard.clear(what);
    await cliAudit(
      ctx,
      'ban.clear',
      values.all ? 'all' : values.address ? `address:${values.address}` : `user:${values.user}`,
      {
        lifted,
      },
    );
    out(`lifted ${lifted} ban${lifted === 1 ? '' : 's'}; failures forgotten`);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
