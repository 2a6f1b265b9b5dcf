import { parseArgs } from 'node:util';
import {
  buildSnapshot,
  CONFIG_KEYS,
  displayValue,
  getEntry,
  parseValue,
  resolveKey,
  formatValue,
} from '@smsfleet/config';
import { ConfigRepo, UsersRepo, isDuplicateKeyError, migrate } from '@smsfleet/db';
import { cdrsToCsv, searchCdrs, type CdrSearch } from '@smsfleet/db';
import { isDecimal, maskCredentials } from '@smsfleet/core';
import { SMS_STATES } from '@smsfleet/core';
import { CliError } from './cli-error.js';
import { smppConfigProblem, smppUrlProblem } from './smpp-validate.js';
import type { CliContext } from './context.js';
import { cliAudit } from './audit-commands.js';
import { userAdminCommand } from './user-admin-commands.js';

type Out = (line: string) => void;

export async function migrateCommand(ctx: CliContext, out: Out): Promise<void> {
  const db = await ctx.database();
  const applied = await migrate(db);
  out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

export async function configCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, key, ...rest] = args;
  const repo = new ConfigRepo(await ctx.database());
  if (sub === 'list') {
    const rows = await repo.getAll();
    for (const e of CONFIG_KEYS) {
      const stored = rows[e.key];
      const value = stored === undefined ? formatValue(e.key, e.default) : stored;
      out(`${e.key}=${displayValue(e.key, value)}${stored === undefined ? '  (default)' : ''}`);
    }
    return;
  }
  if (sub === 'get') {
    if (!key) throw new CliError('usage: smsfleet config get KEY');
    const canonical = resolveKey(key);
    if (!canonical) throw new CliError(`unknown config key: ${key}`);
    const stored = await repo.get(canonical);
    out(stored ?? formatValue(canonical, getEntry(canonical)!.default));
    return;
  }
  if (sub === 'set') {
    if (!key || rest.length === 0) throw new CliError('usage: smsfleet config set KEY VALUE');
    const canonical = resolveKey(key);
    if (!canonical) throw new CliError(`unknown config key: ${key}`);
    const raw = rest.join(' ');
    const parsed = parseValue(canonical, raw);
    if (!parsed.ok) throw new CliError(parsed.error);
    const smppBad = smppConfigProblem(canonical, formatValue(canonical, parsed.value), await repo.getAll());
    if (smppBad) throw new CliError(smppBad);
    await repo.set(canonical, formatValue(canonical, parsed.value));
    await cliAudit(ctx, 'config.set', canonical, {
      value: displayValue(canonical, formatValue(canonical, parsed.value)),
    });
    await ctx.notify('config');
    out(`${canonical}=${displayValue(canonical, formatValue(canonical, parsed.value))}`);
    return;
  }
  throw new CliError('usage: smsfleet config get KEY | set KEY VALUE | list');
}

export async function userCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'credit' || sub === 'enable' || sub === 'disable') return userAdminCommand(ctx, args, out);
  const users = new UsersRepo(await ctx.database());
  if (sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: {
        name: { type: 'string' },
        password: { type: 'string' },
        admin: { type: 'boolean' },
        credit: { type: 'string' },
      },
      strict: true,
    });
    if (!values.name || !/^[A-Za-z0-9_.@-]{1,64}$/.test(values.name))
      throw new CliError('--name is required: 1-64 letters, digits, _ . @ -');
    if (!values.password) throw new CliError('--password is required');
    if (values.credit !== undefined && !isDecimal(values.credit))
      throw new CliError(`--credit must be a decimal number, got "${values.credit}"`);
    try {
      const u = await users.create({
        name: values.name,
        password: values.password,
        type: values.admin ? 'admin' : 'user',
        credit: values.credit ?? '0',
      });
      await cliAudit(ctx, 'user.add', `user:${u.id}`, { name: u.name, type: u.type, credit: u.credit });
      await ctx.notify('users');
      out(`user ${u.id} ${u.name} (${u.type}) credit ${u.credit}`);
    } catch (err) {
      if (isDuplicateKeyError(err) || (err as { code?: string }).code === 'DUPLICATE')
        throw new CliError(`a user named ${values.name} already exists`);
      throw err;
    }
    return;
  }
  if (sub === 'passwd') {
    // A new password: stored as a scrypt hash (and a sealed copy for authmd5 when the server has
    // SMSFLEET_SECRET_KEY). Caches of running services notice the new hash at once.
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, password: { type: 'string' } },
      strict: true,
    });
    if (!values.name) throw new CliError('--name is required');
    if (!values.password) throw new CliError('--password is required');
    const u = await users.findByName(values.name);
    if (!u) throw new CliError(`no user named ${values.name}`);
    await users.setPassword(u.id, values.password);
    await cliAudit(ctx, 'user.passwd', `user:${u.id}`, { name: u.name });
    await ctx.notify('users');
    out(`password of ${u.name} changed`);
    return;
  }
  if (sub === 'list') {
    for (const u of await users.list())
      out(`${u.id}\t${u.name}\t${u.type}\t${u.enabled ? 'enabled' : 'disabled'}\tcredit ${u.credit}`);
    return;
  }
  throw new CliError(
    'usage: smsfleet user add --name N --password P [--admin] [--credit X] | passwd --name N --password P | list',
  );
}

/** Checks a gateway URL when it is saved, not at send time. */
export function validateGatewayUrl(url: string): string | undefined {
  if (/^https?:\/\//i.test(url)) {
    try {
      new URL(url.replace(/\[[a-z]+\]/gi, 'x'));
      return undefined;
    } catch {
      return 'not a valid HTTP URL';
    }
  }
  if (/^smpp;/i.test(url)) return undefined;
  if (url.startsWith('/') || url.startsWith('./')) return undefined;
  return 'must be an http(s):// template, SMPP;key=value;... or an executable path';
}

export async function gatewayCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const users = new UsersRepo(await ctx.database());
  if (sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, url: { type: 'string' }, password: { type: 'string' } },
      strict: true,
    });
    if (!values.name || !/^[A-Za-z0-9_.@-]{1,64}$/.test(values.name))
      throw new CliError('--name is required: 1-64 letters, digits, _ . @ -');
    if (!values.url) throw new CliError('--url is required');
    const bad =
      validateGatewayUrl(values.url) ??
      smppUrlProblem(values.url, buildSnapshot(await new ConfigRepo(await ctx.database()).getAll()).snapshot);
    if (bad) throw new CliError(`--url ${bad}`);
    try {
      const u = await users.create({
        name: values.name,
        password: values.password ?? '',
        type: 'smsgw',
        smsurl: values.url,
      });
      await cliAudit(ctx, 'gateway.add', `gateway:${u.id}`, { name: u.name, url: u.smsurl });
      await ctx.notify('gateways');
      out(`gateway ${u.id} ${u.name} ${maskCredentials(u.smsurl ?? '')}`);
    } catch (err) {
      if (isDuplicateKeyError(err) || (err as { code?: string }).code === 'DUPLICATE')
        throw new CliError(`a user named ${values.name} already exists`);
      throw err;
    }
    return;
  }
  if (sub === 'list') {
    const list = await users.listGateways();
    if (list.length === 0) out('no SMS GW users (messages use the global smsurl)');
    for (const g of list)
      out(`${g.id}\t${g.name}\t${g.enabled ? 'enabled' : 'disabled'}\t${maskCredentials(g.smsurl ?? '')}`);
    return;
  }
  throw new CliError('usage: smsfleet gateway add --name N --url URL | list');
}

export const CDR_LIST_USAGE =
  'cdr list [--json|--csv] [--limit N] [--user NAME|ID] [--gateway NAME|ID] [--status S] [--since T] [--until T] [--number N|PREFIX*]';

function parseTime(name: string, raw: string): Date {
  // Dates, ISO times, or a relative age such as 15m, 2h, 7d.
  const rel = /^(\d+)([smhd])$/.exec(raw);
  if (rel) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(rel[1]) * unit);
  }
  const d = new Date(raw);
  if (Number.isNaN(d.getTime()))
    throw new CliError(`--${name} must be a date, an ISO time or an age like 2h, got "${raw}"`);
  return d;
}

async function cdrSearchFromOptions(
  users: UsersRepo,
  v: { user?: string; gateway?: string; status?: string; since?: string; until?: string; number?: string },
): Promise<CdrSearch> {
  const q: CdrSearch = {};
  const idOf = async (what: string, raw: string): Promise<number> => {
    if (/^\d+$/.test(raw)) return Number(raw);
    const u = await users.findByName(raw);
    if (!u) throw new CliError(`--${what}: no user named ${raw}`);
    return u.id;
  };
  if (v.user !== undefined) q.userId = await idOf('user', v.user);
  if (v.gateway !== undefined) q.gatewayId = await idOf('gateway', v.gateway);
  if (v.status !== undefined) {
    if (!(SMS_STATES as readonly string[]).includes(v.status))
      throw new CliError(`--status must be one of ${SMS_STATES.join(', ')}`);
    q.state = v.status;
  }
  if (v.since !== undefined) q.since = parseTime('since', v.since);
  if (v.until !== undefined) q.until = parseTime('until', v.until);
  if (v.number !== undefined) {
    if (!/^\+?[0-9A-Za-z]{1,64}\*?$/.test(v.number))
      throw new CliError('--number: digits (or a sender name), optionally ending with *');
    q.number = v.number;
  }
  return q;
}

export async function cdrCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new CliError(`usage: smsfleet ${CDR_LIST_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean' },
      limit: { type: 'string' },
      // Filters (routing and billing issue).
      csv: { type: 'boolean' },
      user: { type: 'string' },
      gateway: { type: 'string' },
      status: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      number: { type: 'string' },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new CliError('--limit must be an integer between 1 and 100000');
  const db = await ctx.database();
  const search = await cdrSearchFromOptions(new UsersRepo(db), values);
  const rows = await searchCdrs(db, { ...search, limit });
  if (values.csv) {
    process.stdout.write(cdrsToCsv(rows));
    return;
  }
  if (values.json) {
    out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    out('no CDRs');
    return;
  }
  out(
    ['id', 'time', 'type', 'smsid', 'user', 'gw', 'from', 'to', 'seg', 'dur', 'cost', 'state', 'reason'].join(
      '\t',
    ),
  );
  for (const r of rows) {
    out(
      [
        r.id,
        r.finalAt.toISOString(),
        r.type,
        r.smsid,
        r.userId,
        r.gatewayId,
        r.caller,
        r.callee,
        r.segments,
        r.duration,
        r.cost,
        r.state,
        r.disconnectReason,
      ].join('\t'),
    );
  }
}

export async function sendCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, from: { type: 'string' }, text: { type: 'string' } },
    strict: true,
  });
  if (!values.to) throw new CliError('--to is required');
  if (!values.text) throw new CliError('--text is required');
  const key = await new ConfigRepo(await ctx.database()).get('apiv2key');
  if (!key)
    throw new CliError(
      'apiv2key is not set: run `smsfleet config set apiv2key SECRET` (or `smsfleet up`, which sets one)',
    );
  const q = new URLSearchParams({
    apientry: 'asendsms',
    authkey: key,
    anum: values.from ?? '',
    bnum: values.to,
    message: values.text,
  });
  let text: string;
  try {
    const res = await fetch(`${ctx.apiUrl}/mvapireq/?${q.toString()}`);
    text = await res.text();
  } catch (err) {
    throw new CliError(
      `the API at ${ctx.apiUrl} is not reachable (${(err as Error).message}); is the fleet up?`,
      1,
    );
  }
  if (!text.startsWith('OK')) throw new CliError(text, 1);
  out(text);
}
