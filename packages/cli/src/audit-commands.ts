import os from 'node:os';
import { parseArgs } from 'node:util';
import { AuditRepo, type AuditEntry } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

export const AUDIT_USAGE = 'audit list [--limit N] [--action A|A.*] [--actor NAME] [--json]';

/** The actor of CLI changes: `cli:<os user>`. */
export function cliActor(env: NodeJS.ProcessEnv = process.env): string {
  let name = '';
  try {
    name = os.userInfo().username;
  } catch {
    name = env.USER ?? env.LOGNAME ?? '';
  }
  return `cli:${name || 'unknown'}`;
}

/** Writes one audit row for an admin change made from the command line (after the change). */
export async function cliAudit(
  ctx: CliContext,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await new AuditRepo(await ctx.database()).record({
    actor: cliActor(ctx.env),
    source: 'cli',
    action,
    target,
    details,
  });
}

function line(e: AuditEntry): string {
  return [
    e.id,
    e.at.toISOString(),
    e.actor,
    e.source,
    e.action,
    e.target,
    JSON.stringify(e.details),
    e.remoteAddr ?? '',
  ].join('\t');
}

/** `audit list`: the latest admin actions, newest first. */
export async function auditCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new CliError(`usage: smsfleet ${AUDIT_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      limit: { type: 'string' },
      action: { type: 'string' },
      actor: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new CliError('--limit must be an integer between 1 and 10000');
  const rows = await new AuditRepo(await ctx.database()).list({
    limit,
    ...(values.action ? { action: values.action } : {}),
    ...(values.actor ? { actor: values.actor } : {}),
  });
  if (values.json) {
    out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    out('no audit entries');
    return;
  }
  out(['id', 'time', 'actor', 'source', 'action', 'target', 'details', 'remote'].join('\t'));
  for (const r of rows) out(line(r));
}
