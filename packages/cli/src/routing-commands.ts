import { parseArgs } from 'node:util';
import {
  chooseRoute,
  countSegments,
  rateSms,
  routePlan,
  validatePriceRule,
  validateRouteRule,
  type RoutePatternType,
} from '@smsfleet/core';
import { ConfigStore } from '@smsfleet/config';
import {
  ConfigRepo,
  PricesRepo,
  RoutesRepo,
  UsersRepo,
  isDuplicateKeyError,
  loadRoutingTables,
} from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { cliAudit } from './audit-commands.js';

type Out = (line: string) => void;

function int(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new CliError(`--${name} must be an integer, got "${raw}"`);
  return n;
}

async function userIdByName(users: UsersRepo, name: string | undefined): Promise<number | null> {
  if (name === undefined) return null;
  const u = await users.findByName(name);
  if (!u) throw new CliError(`no user named ${name}`);
  return u.id;
}

const ROUTE_USAGE =
  'usage: smsfleet route add --gateway NAME|ID (--prefix P | --regex RE) [--priority N] [--weight N] [--sender PREFIX] [--user NAME] [--group G] | list | rm ID';

/** `route add|list|rm`: routing rules of type SMS over the SMS GW users. */
export async function routeCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const db = await ctx.database();
  const routes = new RoutesRepo(db);
  const users = new UsersRepo(db);
  if (sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: {
        gateway: { type: 'string' },
        prefix: { type: 'string' },
        regex: { type: 'string' },
        priority: { type: 'string' },
        weight: { type: 'string' },
        sender: { type: 'string' },
        user: { type: 'string' },
        group: { type: 'string' },
      },
      strict: true,
    });
    if (!values.gateway) throw new CliError(`--gateway is required\n${ROUTE_USAGE}`);
    if ((values.prefix === undefined) === (values.regex === undefined))
      throw new CliError('give exactly one of --prefix or --regex');
    const gw = /^\d+$/.test(values.gateway)
      ? await users.findById(Number(values.gateway))
      : await users.findByName(values.gateway);
    if (!gw || gw.type !== 'smsgw')
      throw new CliError(`no SMS GW user ${values.gateway} (see smsfleet gateway list)`);
    const patternType: RoutePatternType = values.prefix !== undefined ? 'prefix' : 'regex';
    const rule = {
      patternType,
      pattern: values.prefix ?? values.regex ?? '',
      gatewayId: gw.id,
      priority: int('priority', values.priority, 10),
      weight: int('weight', values.weight, 1),
      senderPrefix: values.sender ?? null,
      userId: await userIdByName(users, values.user),
      userGroup: values.group ?? null,
    };
    const bad = validateRouteRule(rule);
    if (bad) throw new CliError(bad);
    const r = await routes.add(rule);
    await cliAudit(ctx, 'route.add', `route:${r.id}`, { ...rule, gateway: gw.name });
    await ctx.notify('routes');
    out(
      `route ${r.id}: ${r.patternType} ${r.pattern || '(any)'} -> ${gw.name} (${gw.id}) priority ${r.priority} weight ${r.weight}`,
    );
    return;
  }
  if (sub === 'list') {
    const list = await routes.list();
    if (list.length === 0) {
      out('no routes (with smsrouting 1 or -1, the first SMS GW user takes every message)');
      return;
    }
    const names = new Map((await users.listGateways()).map((g) => [g.id, g.name]));
    out(['id', 'type', 'pattern', 'gateway', 'priority', 'weight', 'sender', 'user', 'group'].join('\t'));
    for (const r of list)
      out(
        [
          r.id,
          r.patternType,
          r.pattern || '(any)',
          `${names.get(r.gatewayId) ?? '?'}(${r.gatewayId})`,
          r.priority,
          r.weight,
          r.senderPrefix ?? '',
          r.userId ?? '',
          r.userGroup ?? '',
        ].join('\t'),
      );
    return;
  }
  if (sub === 'rm') {
    const id = Number(rest[0]);
    if (!Number.isInteger(id) || id <= 0) throw new CliError('usage: smsfleet route rm ID');
    if (!(await routes.remove(id))) throw new CliError(`no route ${id}`);
    await cliAudit(ctx, 'route.remove', `route:${id}`);
    await ctx.notify('routes');
    out(`route ${id} removed`);
    return;
  }
  throw new CliError(ROUTE_USAGE);
}

const PRICE_USAGE =
  'usage: smsfleet price add --prefix P --price X [--user NAME | --packet NAME] | list | rm ID | check --user NAME --to N --text T | packet --user NAME --packet NAME';

/** `price add|list|rm|check|packet`: the price setup of service type SMS. */
export async function priceCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const db = await ctx.database();
  const prices = new PricesRepo(db);
  const users = new UsersRepo(db);
  if (sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: {
        prefix: { type: 'string' },
        price: { type: 'string' },
        user: { type: 'string' },
        packet: { type: 'string' },
      },
      strict: true,
    });
    if (values.prefix === undefined || values.price === undefined)
      throw new CliError(`--prefix and --price are required\n${PRICE_USAGE}`);
    if (values.user !== undefined && values.packet !== undefined)
      throw new CliError('give --user or --packet, not both');
    const rule = {
      prefix: values.prefix,
      price: values.price.trim(),
      userId: await userIdByName(users, values.user),
      packet: values.packet ?? null,
    };
    const bad = validatePriceRule(rule);
    if (bad) throw new CliError(bad);
    try {
      const p = await prices.add(rule);
      await cliAudit(ctx, 'price.add', `price:${p.id}`, { ...rule });
      await ctx.notify('prices');
      out(`price ${p.id}: prefix ${p.prefix || '(any)'} ${p.price} per SMS${scope(p.userId, p.packet)}`);
    } catch (err) {
      if (isDuplicateKeyError(err) || (err as { code?: string }).code === 'DUPLICATE')
        throw new CliError(
          `a price for prefix "${rule.prefix}" already exists${scope(rule.userId, rule.packet)}`,
        );
      throw err;
    }
    return;
  }
  if (sub === 'list') {
    const list = await prices.list();
    if (list.length === 0) {
      out('no prices (every SMS costs smsprice per segment)');
      return;
    }
    out(['id', 'prefix', 'price', 'user', 'packet'].join('\t'));
    for (const p of list)
      out([p.id, p.prefix || '(any)', p.price, p.userId ?? '', p.packet ?? ''].join('\t'));
    return;
  }
  if (sub === 'rm') {
    const id = Number(rest[0]);
    if (!Number.isInteger(id) || id <= 0) throw new CliError('usage: smsfleet price rm ID');
    if (!(await prices.remove(id))) throw new CliError(`no price ${id}`);
    await cliAudit(ctx, 'price.remove', `price:${id}`);
    await ctx.notify('prices');
    out(`price ${id} removed`);
    return;
  }
  if (sub === 'packet') {
    const { values } = parseArgs({
      args: rest,
      options: { user: { type: 'string' }, packet: { type: 'string' } },
      strict: true,
    });
    const uid = await userIdByName(users, values.user);
    if (uid === null || values.packet === undefined)
      throw new CliError('usage: smsfleet price packet --user NAME --packet NAME');
    if (!/^[A-Za-z0-9_.-]{0,64}$/.test(values.packet))
      throw new CliError('--packet: 0-64 letters, digits, _ . -');
    await prices.setUserPacket(uid, values.packet);
    await cliAudit(ctx, 'price.packet', `user:${uid}`, { packet: values.packet });
    await ctx.notify('users');
    out(`user ${values.user} price packet ${values.packet || '(none)'}`);
    return;
  }
  if (sub === 'check') {
    const { values } = parseArgs({
      args: rest,
      options: {
        user: { type: 'string' },
        to: { type: 'string' },
        text: { type: 'string' },
        from: { type: 'string' },
      },
      strict: true,
    });
    if (!values.to || values.text === undefined)
      throw new CliError('usage: smsfleet price check --user NAME --to N --text T');
    const uid = (await userIdByName(users, values.user)) ?? 0;
    const configRepo = new ConfigRepo(db);
    const config = new ConfigStore({ load: () => configRepo.getAll() });
    await config.start();
    const cfg = config.current();
    await config.close();
    const t = await loadRoutingTables(db);
    const count = countSegments(values.text);
    const q = { to: values.to, from: values.from ?? '', userId: uid, userGroup: t.packets.get(uid) };
    const enabled = new Set(t.gateways);
    const first = chooseRoute(
      { smsrouting: cfg.smsrouting, hasGlobalGateway: Boolean(cfg.smsurl), gateways: t.gateways },
      t.routes,
      q,
      Math.random,
    );
    const plan =
      cfg.smsrouting === 0
        ? []
        : routePlan(
            t.routes,
            q,
            () => 0,
            (g) => enabled.has(g),
          );
    const name = (id: number | undefined) =>
      id === undefined ? 'none' : id === 0 ? 'smsurl (0)' : `${t.gatewayNames.get(id) ?? '?'} (${id})`;
    const r = rateSms(
      t.prices,
      { to: values.to, userId: uid, packet: t.packets.get(uid), segments: count.segments },
      cfg.smsprice,
    );
    out(`route: ${name(first)}`);
    if (plan.length > 1) out(`failover order: ${plan.map(name).join(' -> ')}`);
    out(`segments: ${count.segments} (${count.encoding})`);
    out(
      `price: ${r.unitPrice} per segment (${r.rule ? `price ${r.rule.id}, prefix ${r.rule.prefix || '(any)'}${scope(r.rule.userId, r.rule.packet)}` : 'smsprice, no price found'})`,
    );
    out(`cost: ${r.cost}`);
    return;
  }
  throw new CliError(PRICE_USAGE);
}

function scope(userId: number | null | undefined, packet: string | null | undefined): string {
  return userId ? ` for user ${userId}` : packet ? ` in packet ${packet}` : '';
}
