import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSnapshot } from '@smsfleet/config';
import {
  GATEWAY_SETTINGS,
  GatewaySettingsError,
  chooseEncoding,
  countSegments,
  isSmppUrl,
  newSmsId,
  parseGatewaySettingPairs,
  type OutboundSms,
} from '@smsfleet/core';
import { ConfigRepo, GatewaySettingsRepo, TemplateQueryRunner, UsersRepo } from '@smsfleet/db';
import { createTransport, SendFiles, type GatewayDefinition } from '@smsfleet/dispatcher';
import { maskBody, maskHeaders, maskUrl, type HttpExchange } from '@smsfleet/http-transport';
import type { ExecExchange } from '@smsfleet/exec-transport';
import { gatewayCommand } from './admin-commands.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { REPO_ROOT } from './paths.js';
import { testSmppGateway } from './gateway-test-smpp.js';
import { cliAudit } from './audit-commands.js';

type Out = (line: string) => void;

function gatewayId(raw: string | undefined, usage: string): number {
  if (raw === undefined || !/^\d+$/.test(raw)) throw new CliError(usage);
  return Number(raw);
}

function settingsOrFail(pairs: string[]) {
  try {
    return parseGatewaySettingPairs(pairs);
  } catch (err) {
    if (err instanceof GatewaySettingsError) throw new CliError(err.message);
    throw err;
  }
}

/** Masked view of one setting value: templates may hold credentials. */
function showSetting(key: string, value: unknown): string {
  const v = String(value);
  if (key === 'smssendheader') return maskHeaders(v).replace(/\n/g, '\\n');
  if (key === 'smssenddata') return maskBody(v).replace(/\n/g, '\\n');
  return v;
}

/** Settings as written to the audit log: the same masking as on screen. */
function settingsForAudit(settings: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) out[k] = v === undefined ? '' : showSetting(k, v);
  return out;
}

const USAGE =
  'usage: smsfleet gateway add --name N --url URL [--set key=value ...] | list | set ID key=value ... | ' +
  'settings ID | test ID --to N --text T [--from F]';

/**
 * `gateway` with per-gateway settings and the test tool; `add` without settings and `list` are the
 * base command's.
 */
export async function gatewaySettingsCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    // --set key=value (repeatable) is ours; the rest goes to the base command.
    const pairs: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--set') {
        const v = rest[++i];
        if (v === undefined) throw new CliError('--set needs key=value');
        pairs.push(v);
      } else if (a.startsWith('--set=')) pairs.push(a.slice(6));
      else others.push(a);
    }
    const settings = settingsOrFail(pairs); // validated before anything is written
    let created = '';
    await gatewayCommand(ctx, ['add', ...others], (line) => {
      created = line;
      out(line);
    });
    const id = /^gateway (\d+) /.exec(created)?.[1];
    if (pairs.length && id) {
      await new GatewaySettingsRepo(await ctx.database()).merge(Number(id), { ...settings });
      await cliAudit(ctx, 'gateway.settings', `gateway:${id}`, { set: settingsForAudit(settings) });
      await ctx.notify('gateways');
      for (const [k, v] of Object.entries(settings)) out(`  ${k}=${showSetting(k, v)}`);
    }
    return;
  }
  if (sub === 'set') {
    const id = gatewayId(rest[0], 'usage: smsfleet gateway set ID key=value ... (key= removes a setting)');
    const pairs = rest.slice(1);
    if (pairs.length === 0) {
      out(`settings: ${GATEWAY_SETTINGS.map((s) => s.key).join(', ')}`);
      throw new CliError('usage: smsfleet gateway set ID key=value ...');
    }
    const patch = settingsOrFail(pairs);
    const db = await ctx.database();
    if (id !== 0) {
      const gw = await new UsersRepo(db).findById(id);
      if (!gw || gw.type !== 'smsgw') throw new CliError(`no SMS GW user with id ${id}`);
    }
    const merged = await new GatewaySettingsRepo(db).merge(id, { ...patch });
    await cliAudit(ctx, 'gateway.settings', `gateway:${id}`, { set: settingsForAudit(patch) });
    await ctx.notify('gateways');
    out(`gateway ${id} settings:`);
    for (const [k, v] of Object.entries(merged)) out(`  ${k}=${showSetting(k, v)}`);
    return;
  }
  if (sub === 'settings') {
    const id = gatewayId(rest[0], 'usage: smsfleet gateway settings ID');
    const s = await new GatewaySettingsRepo(await ctx.database()).get(id);
    if (Object.keys(s).length === 0) out(`gateway ${id}: no settings (global config and defaults apply)`);
    for (const [k, v] of Object.entries(s)) out(`${k}=${showSetting(k, v)}`);
    return;
  }
  if (sub === 'test') return gatewayTest(ctx, rest, out);
  if (sub === 'list' || sub === undefined) return gatewayCommand(ctx, args, out);
  if (sub === 'help') throw new CliError(USAGE);
  return gatewayCommand(ctx, args, out);
}

/**
 * Sends one message through a gateway exactly as the dispatcher would (same transport factory,
 * settings, files and config) and prints the request and the raw answer with secrets masked.
 */
async function gatewayTest(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { to: { type: 'string' }, text: { type: 'string' }, from: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const id = gatewayId(positionals[0], 'usage: smsfleet gateway test ID --to N --text T [--from F]');
  if (!values.to || !/^\+?\d{3,20}$/.test(values.to)) throw new CliError('--to must be a phone number');
  if (values.text === undefined || values.text === '') throw new CliError('--text is required');
  const db = await ctx.database();
  const cfg = buildSnapshot(await new ConfigRepo(db).getAll()).snapshot;
  let def: GatewayDefinition;
  if (id === 0) {
    if (!cfg.smsurl) throw new CliError('gateway 0 is the global smsurl, which is not set');
    def = { id: 0, name: 'smsurl', url: cfg.smsurl };
  } else {
    const gw = await new UsersRepo(db).findById(id);
    if (!gw || gw.type !== 'smsgw') throw new CliError(`no SMS GW user with id ${id}`);
    def = { id, name: gw.name, url: gw.smsurl ?? '' };
  }
  if (isSmppUrl(def.url)) {
    return testSmppGateway(def, cfg, { to: values.to, text: values.text, from: values.from ?? '' }, out);
  }
  const settings = await new GatewaySettingsRepo(db).get(id);
  const filesDir = path.resolve(REPO_ROOT, ctx.env.SMS_FILES_DIR ?? path.join('.smsfleet', 'files'));
  const files = new SendFiles(filesDir);
  await files.reload();
  const templates = new TemplateQueryRunner(db);
  const http: HttpExchange[] = [];
  const exec: ExecExchange[] = [];
  const t = createTransport(def, cfg, 1, {
    settings,
    files,
    sql: (q, p, ms) => templates.run(q, p, ms),
    onHttpExchange: (e) => http.push(e),
    onExecExchange: (e) => exec.push(e),
  });
  if ('error' in t) throw new CliError(`gateway ${id}: ${t.error}`);
  const text = values.text;
  const msg: OutboundSms = {
    smsid: newSmsId(),
    userId: 0,
    gatewayId: id,
    from: values.from ?? '',
    to: values.to,
    text,
    encoding: chooseEncoding(text),
    segments: countSegments(text).segments,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
  out(`gateway ${id} (${def.name}) smsid ${msg.smsid}`);
  let result;
  try {
    result = await t.send(msg);
  } finally {
    await t.close();
  }
  for (const e of http) {
    out(`> ${e.method} ${maskUrl(e.url)}`);
    for (const [k, v] of Object.entries(e.headers)) out(`> ${maskHeaders(`${k}: ${v}`)}`);
    if (e.body !== undefined) out(`> ${maskBody(e.body)}`);
    if (e.error) out(`! ${e.error}`);
    else {
      out(`< HTTP ${e.status ?? ''} (${e.latencyMs.toFixed(1)} ms)`);
      for (const [k, v] of Object.entries(e.responseHeaders ?? {}))
        out(`< ${maskHeaders(`${k}: ${Array.isArray(v) ? v.join(', ') : (v ?? '')}`)}`);
      out(`< ${e.answer ?? ''}`);
    }
  }
  for (const e of exec) {
    out(`> exec ${e.file} ${e.args.map((a) => JSON.stringify(a)).join(' ')}`);
    out(
      `< exit ${e.exitCode ?? e.signal ?? '-'} (${e.latencyMs.toFixed(1)} ms)${e.error ? ` ${e.error}` : ''}`,
    );
    if (e.stdout) out(`< stdout: ${e.stdout.trimEnd()}`);
    if (e.stderr) out(`< stderr: ${e.stderr.trimEnd()}`);
  }
  if (result.ok)
    out(`result: submitted${result.providerMessageId ? ` provider id ${result.providerMessageId}` : ''}`);
  else
    throw new CliError(
      `result: ${result.permanent ? 'rejected (permanent)' : 'temporary failure'}: ${result.reason}`,
    );
}
