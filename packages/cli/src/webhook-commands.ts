import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { UsersRepo } from '@smsfleet/db';
import { Queue, createRedis } from '@smsfleet/queue';
import { CliError } from './cli-error.js';
type Out = (line: string) => void;
import type { CliContext } from './context.js';
import { cliAudit } from './audit-commands.js';

async function withQueue<T>(ctx: CliContext, name: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const redis = createRedis(ctx.infra.redisUrl, 'cli');
  const q = new Queue(name, { connection: redis, prefix: ctx.infra.queuePrefix });
  try {
    return await fn(q);
  } finally {
    await q.close();
    await redis.quit();
  }
}

/**
 * `smsfleet webhook set --user U --url URL` (a new signing secret is printed once),
 * `webhook dlq [--limit N]` (calls that failed for 24 h), `webhook replay --all | JOBID...`.
 */
export async function webhookCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'set') {
    const { values } = parseArgs({
      args: rest,
      options: { user: { type: 'string' }, url: { type: 'string' } },
      strict: true,
    });
    if (!values.user) throw new CliError('--user is required');
    if (values.url === undefined) throw new CliError('--url is required (empty to turn webhooks off)');
    if (values.url && !/^https?:\/\/[^\s]+$/i.test(values.url))
      throw new CliError('--url must be an http(s) URL');
    const db = await ctx.database();
    const user = await new UsersRepo(db).findByName(values.user);
    if (!user) throw new CliError(`no user named ${values.user}`);
    const secret = values.url ? randomBytes(24).toString('hex') : null;
    await db('users')
      .where({ id: user.id })
      .update({ webhook_url: values.url || null, webhook_secret: secret });
    await cliAudit(ctx, 'webhook.set', `user:${user.id}`, { name: user.name, url: values.url });
    out(
      values.url
        ? `webhook of ${user.name}: ${values.url}\nsigning secret (shown once): ${secret}`
        : `webhook of ${user.name} removed`,
    );
    return;
  }
  if (sub === 'dlq') {
    const { values } = parseArgs({
      args: rest,
      options: { limit: { type: 'string', default: '50' } },
      strict: true,
    });
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer');
    await withQueue(ctx, 'webhooks', async (q) => {
      const failed = await q.getFailed(0, limit - 1);
      if (failed.length === 0) out('no failed webhook calls');
      for (const j of failed) {
        const data = j.data as { url: string };
        out(
          `${j.id}\t${new Date(j.finishedOn ?? j.timestamp).toISOString()}\t${j.attemptsMade} attempts\t${data.url}\t${j.failedReason ?? ''}`,
        );
      }
    });
    return;
  }
  if (sub === 'replay') {
    const all = rest.includes('--all');
    const ids = rest.filter((a) => a !== '--all');
    if (!all && ids.length === 0) throw new CliError('usage: smsfleet webhook replay --all | JOBID...');
    await withQueue(ctx, 'webhooks', async (q) => {
      const jobs = all ? await q.getFailed(0, -1) : await Promise.all(ids.map((id) => q.getJob(id)));
      let n = 0;
      for (const j of jobs) {
        if (!j) continue;
        if (!(await j.isFailed())) continue;
        await j.retry('failed');
        n++;
      }
      out(`replayed ${n} webhook call(s)`);
    });
    return;
  }
  throw new CliError(
    'usage: smsfleet webhook set --user U --url URL | dlq [--limit N] | replay --all | JOBID...',
  );
}
