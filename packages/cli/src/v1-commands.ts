import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiKeysRepo, ConfigRepo, UsersRepo } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { cliAudit } from './audit-commands.js';

type Out = (line: string) => void;

interface Problem {
  title?: string;
  detail?: string;
  errors?: { pointer: string; detail: string }[];
}

export interface BatchView {
  id: string;
  state: string;
  total: number;
  queued: number;
  submitted: number;
  delivered: number;
  failed: number;
  unknown: number;
  completed: number;
  cancelled: number;
}

/** `apikey create --user U [--label L]` | `apikey list [--user U]` | `apikey revoke ID`. */
export async function apikeyCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const db = await ctx.database();
  const keys = new ApiKeysRepo(db);
  const users = new UsersRepo(db);
  if (sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { user: { type: 'string' }, label: { type: 'string' } },
      strict: true,
    });
    if (!values.user) throw new CliError('--user is required');
    const user = await users.findByName(values.user);
    if (!user) throw new CliError(`no user named ${values.user}`);
    if (user.type === 'smsgw') throw new CliError(`${values.user} is an SMS GW user, not a sender`);
    const { key, token } = await keys.create(user.id, values.label ?? '');
    await cliAudit(ctx, 'apikey.create', `apikey:${key.id}`, {
      user: user.name,
      label: key.label,
      prefix: key.tokenPrefix,
    });
    out(token);
    process.stderr.write(
      `api key ${key.id} for ${user.name} (${user.type}); the key is shown only now: store it safely\n`,
    );
    return;
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { user: { type: 'string' } }, strict: true });
    let userId: number | undefined;
    if (values.user) {
      const u = await users.findByName(values.user);
      if (!u) throw new CliError(`no user named ${values.user}`);
      userId = u.id;
    }
    const names = new Map((await users.list()).map((u) => [u.id, u.name]));
    const list = await keys.list({ userId });
    if (list.length === 0) {
      out('no API keys');
      return;
    }
    out(['id', 'user', 'key', 'label', 'state', 'created'].join('\t'));
    for (const k of list)
      out(
        [
          k.id,
          names.get(k.userId) ?? k.userId,
          `${k.tokenPrefix}…`,
          k.label,
          k.enabled ? 'active' : `revoked ${k.revokedAt?.toISOString() ?? ''}`,
          k.createdAt.toISOString(),
        ].join('\t'),
      );
    return;
  }
  if (sub === 'revoke') {
    const id = Number(rest[0]);
    if (!Number.isInteger(id) || id < 1) throw new CliError('usage: smsfleet apikey revoke ID');
    if (!(await keys.revoke(id))) throw new CliError(`no active API key ${id}`);
    await cliAudit(ctx, 'apikey.revoke', `apikey:${id}`);
    // Running api-gateways drop their key cache at once (else within seconds).
    await ctx.notify('users');
    out(`api key ${id} revoked`);
    return;
  }
  throw new CliError('usage: smsfleet apikey create --user U [--label L] | list [--user U] | revoke ID');
}

/** The bearer key: --key, SMSFLEET_API_KEY, or the server key (apiv2key) from the database. */
async function bearerKey(ctx: CliContext, key: string | undefined): Promise<string> {
  const k = key ?? ctx.env.SMSFLEET_API_KEY;
  if (k) return k;
  const server = await new ConfigRepo(await ctx.database()).get('apiv2key');
  if (!server)
    throw new CliError(
      'no API key: pass --key, set SMSFLEET_API_KEY, or set apiv2key (`smsfleet config set apiv2key SECRET`)',
    );
  return server;
}

/** One /v1 call; a problem document becomes a one-line `ERROR ...` CliError. */
async function call<T>(
  ctx: CliContext,
  key: string,
  method: string,
  path: string,
  body?: { type: string; data: string },
  headers: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': body.type } : {}),
        ...headers,
      },
      ...(body ? { body: body.data } : {}),
    });
  } catch (err) {
    throw new CliError(
      `the API at ${ctx.apiUrl} is not reachable (${(err as Error).message}); is the fleet up?`,
      1,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let p: Problem = {};
    try {
      p = JSON.parse(text) as Problem;
    } catch {
      p = { detail: text.slice(0, 200) };
    }
    const errors = p.errors ?? [];
    // One bad field reads best as its own message; several are listed under the summary.
    if (errors.length === 1) throw new CliError(`ERROR ${errors[0]!.detail} (${errors[0]!.pointer})`, 1);
    const lines = [`ERROR ${p.detail ?? p.title ?? `HTTP ${res.status}`}`];
    for (const e of errors.slice(0, 20)) lines.push(`  ${e.pointer}: ${e.detail}`);
    if (errors.length > 20) lines.push(`  ... ${errors.length - 20} more`);
    throw new CliError(lines.join('\n'), 1);
  }
  return JSON.parse(text) as T;
}

/** A one-line progress bar: `[#####-----]  5000/10000 queued 10 submitted 4990 ...`. */
export function progressLine(b: BatchView, width = 30): string {
  const done = b.total ? Math.min(1, b.completed / b.total) : 1;
  const filled = Math.round(done * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(b.completed).padStart(String(b.total).length)}/${b.total} done  queued ${b.queued}  submitted ${b.submitted}  delivered ${b.delivered}  unknown ${b.unknown}  failed ${b.failed}`;
}

/**
 * `send --to N[,N...] --text T [--from F]` through POST /v1/messages, or
 * `send --file recipients.csv [--text T] [--from F] [--at TIME] [--no-wait]` through POST /v1/batches
 * with a progress bar until every message is final.
 */
export async function v1SendCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      text: { type: 'string' },
      file: { type: 'string' },
      at: { type: 'string' },
      key: { type: 'string' },
      'no-wait': { type: 'boolean' },
    },
    strict: true,
  });
  if (values.file !== undefined) {
    let csv: string;
    try {
      csv = fs.readFileSync(values.file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${values.file}: ${(err as Error).message}`);
    }
    const key = await bearerKey(ctx, values.key);
    const q = new URLSearchParams();
    if (values.text) q.set('text', values.text);
    if (values.from) q.set('from', values.from);
    if (values.at) q.set('scheduleAt', values.at);
    const batch = await call<BatchView>(
      ctx,
      key,
      'POST',
      `/v1/batches${q.size ? `?${q.toString()}` : ''}`,
      { type: 'text/csv', data: csv },
      // A retried upload (by hand, or by a proxy) must not send the batch twice.
      { 'idempotency-key': randomUUID() },
    );
    out(`batch ${batch.id}: ${batch.total} recipients`);
    if (values['no-wait']) return;
    await followBatch(ctx, key, batch, out);
    return;
  }
  if (!values.to) throw new CliError('--to is required (or --file recipients.csv)');
  if (!values.text) throw new CliError('--text is required');
  const key = await bearerKey(ctx, values.key);
  const to = values.to.split(/[,;]/).filter((s) => s.trim() !== '');
  const r = await call<{ messages: { smsid: string; to: string }[] }>(
    ctx,
    key,
    'POST',
    '/v1/messages',
    {
      type: 'application/json',
      data: JSON.stringify({ to: to.length === 1 ? to[0] : to, text: values.text, from: values.from ?? '' }),
    },
    { 'idempotency-key': randomUUID() },
  );
  out(`OK ${r.messages.map((m) => m.smsid).join(',')}`);
}

async function followBatch(ctx: CliContext, key: string, first: BatchView, out: Out): Promise<void> {
  const tty = process.stderr.isTTY;
  let b = first;
  let lastPrint = 0;
  for (;;) {
    const line = progressLine(b);
    if (tty) process.stderr.write(`\r${line}`);
    else if (Date.now() - lastPrint > 2000) {
      process.stderr.write(`${line}\n`);
      lastPrint = Date.now();
    }
    if (b.completed >= b.total || b.state === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
    b = await call<BatchView>(ctx, key, 'GET', `/v1/batches/${b.id}`);
  }
  if (tty) process.stderr.write('\n');
  out(
    `batch ${b.id} ${b.state}: ${b.completed}/${b.total} done, delivered ${b.delivered}, unknown ${b.unknown}, failed ${b.failed}${b.cancelled ? ` (cancelled ${b.cancelled})` : ''}`,
  );
  if (b.state === 'failed') throw new CliError(`batch ${b.id} could not be queued completely`, 1);
}
