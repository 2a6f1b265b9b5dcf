import express from 'express';
import { checkConfigChange, displayValue } from '@smsfleet/config';
import { isDecimal } from '@smsfleet/core';
import { AuditRepo, ConfigRepo, type AuditInsert, type User, type UserType } from '@smsfleet/db';
import { needsRehash } from '@smsfleet/security';
import type { ApiContext } from '../api-context.js';
import { OpsStateReader, type OpsState } from './ops-state.js';
import { parseAlertNumbers } from '@smsfleet/core';
import { readAlerts, thresholdsOf } from '../alerts/alert-monitor.js';
import {
  SESSION_TTL_MS,
  SessionKeys,
  checkLogin,
  escapeHtml,
  loginPage,
  mountAssets,
  newSession,
  pageHtml,
  readCookie,
  sameOrigin,
  safeEqual,
  sendPage,
  setCookie,
  type WebSession,
} from './web-session.js';

const COOKIE = 'sf_ops';
const COOKIE_PATH = '/ops';
/** Several operators polling every second must not each cost a Redis round trip per gateway. */
const STATE_CACHE_MS = 500;

export interface WebArea {
  keys: SessionKeys;
  cookie: string;
  cookiePath: string;
  types: readonly UserType[];
  /**
   * Whether the session's user may still use the area (exists, enabled, still of an allowed type):
   * a signed session outlives a demotion, so every API request checks it on the server.
   */
  current?: (s: WebSession) => Promise<boolean>;
}

/** The area's `current` check over the user cache (cleared on every `users` change). */
export function currentUserCheck(ctx: ApiContext, types: readonly UserType[]) {
  return async (s: WebSession): Promise<boolean> => {
    const u = await ctx.userCache.get(s.name);
    return !!u && u.id === s.userId && u.enabled && types.includes(u.type);
  };
}

/** The session of a request to a web area, or undefined. */
export async function sessionOf(req: express.Request, area: WebArea): Promise<WebSession | undefined> {
  const s = await area.keys.verify(readCookie(req, area.cookie));
  return s && area.types.includes(s.type) ? s : undefined;
}

/**
 * Guards JSON endpoints: a valid session (else 401); a user of an allowed type who is still
 * enabled and still of that type (else 403); for anything but GET the CSRF header and, when the
 * browser names it, the same origin (else 403). Refused requests reach no handler.
 */
export function apiGuard(area: WebArea) {
  return async (req: express.Request, res: express.Response, next: express.NextFunction) => {
    const s = await area.keys.verify(readCookie(req, area.cookie));
    if (!s) {
      res.status(401).json({ error: 'login required' });
      return;
    }
    if (!area.types.includes(s.type) || (area.current && !(await area.current(s)))) {
      res.status(403).json({ error: 'not allowed for this account' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const token = req.get('x-csrf-token') ?? '';
      if (!safeEqual(token, await area.keys.csrfToken(s)) || !sameOrigin(req)) {
        res.status(403).json({ error: 'missing or wrong CSRF token' });
        return;
      }
    }
    res.locals.session = s;
    res.set('cache-control', 'no-store');
    next();
  };
}

/** Login and logout routes shared by /ops and /portal. */
export function mountLogin(
  router: express.Router,
  ctx: ApiContext,
  area: WebArea,
  page: { title: string; hint: string },
): void {
  const base = area.cookiePath;
  router.post(`${base}/login`, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    // The ban list of failed authentications (fleet-wide): a banned address or user name is
    // refused before the password is looked at; failures are counted and slowed down.
    const subject = { address: req.ip ?? req.socket.remoteAddress, user: name || undefined };
    const admitted = await ctx.secrets.guard.admit(subject);
    if (admitted.banned) {
      ctx.log.info({ area: base, user: name.slice(0, 64) }, 'web login refused: banned');
      sendPage(
        res,
        loginPage({ ...page, action: `${base}/login`, error: `Refused: ${admitted.reason}.` }),
        429,
      );
      return;
    }
    const user: User | undefined = sameOrigin(req)
      ? await checkLogin((n) => ctx.users.findByName(n), name, password, area.types, ctx.secrets.verifier)
      : undefined;
    if (!user) {
      const after = await ctx.secrets.guard.fail(subject).catch(() => undefined);
      ctx.log.info({ area: base, user: name.slice(0, 64) }, 'web login refused');
      sendPage(
        res,
        loginPage({
          ...page,
          action: `${base}/login`,
          error: after?.banned
            ? `Wrong user name or password; ${after.reason}.`
            : 'Wrong user name or password.',
        }),
        after?.banned ? 429 : 401,
      );
      return;
    }
    // Hashes made with older scrypt parameters are replaced at the next successful login.
    if (needsRehash(user.passwordHash))
      void ctx.users.setPassword(user.id, password).catch((err: unknown) => {
        ctx.log.warn({ userId: user.id, err: (err as Error).message }, 'password rehash failed');
      });
    setCookie(req, res, area.cookie, await area.keys.sign(newSession(user)), base, SESSION_TTL_MS);
    ctx.log.info({ area: base, userId: user.id }, 'web login');
    res.redirect(303, `${base}/`);
  });
  router.post(`${base}/logout`, apiGuard(area), (req, res) => {
    setCookie(req, res, area.cookie, '', base, 0);
    res.json({ ok: true });
  });
}

function dashboardHtml(s: WebSession, csrf: string): string {
  return pageHtml({
    title: 'smsfleet ops',
    csrf,
    scripts: ['/web-assets/ops.js', '/web-assets/ops-alerts.js'],
    body: `<header><h1>smsfleet ops</h1><span class="muted">signed in as ${escapeHtml(s.name)}</span>
<span id="updated" class="muted"></span><button id="logout" class="link">Log out</button></header>
<main>
<section class="cards" id="totals" aria-label="fleet totals">
<div class="card"><div class="label">Queued messages</div><div class="value" id="t-pending">–</div></div>
<div class="card"><div class="label">Chunks waiting / active / delayed</div><div class="value" id="t-chunks">–</div></div>
<div class="card"><div class="label">Sent now (msg/s)</div><div class="value" id="t-rate">–</div><svg class="spark" id="t-spark" viewBox="0 0 120 30" preserveAspectRatio="none"></svg></div>
<div class="card"><div class="label">Accepted now (msg/s)</div><div class="value" id="t-accepted">–</div></div>
<div class="card"><div class="label">Delivered / ok (5 min)</div><div class="value" id="t-delivery">–</div></div>
<div class="card"><div class="label">End-to-end p50 / p95</div><div class="value" id="t-latency">–</div></div>
<div class="card"><div class="label">Failed chunks</div><div class="value" id="t-failed">–</div></div>
</section>
<h2>Gateways</h2>
<table id="gateways"><thead><tr><th>Gateway</th><th>Queue</th><th>Queued msgs</th><th>Chunks w/a/d/f</th><th>msg/s</th><th>Last 5 min</th><th>Delivered / ok</th><th>p50 / p95</th><th>Provider p50 / p95</th><th>Binds (window)</th><th>Circuit</th><th>Actions</th></tr></thead><tbody></tbody></table>
<h2>Recent failures</h2>
<table id="failures"><thead><tr><th>Time</th><th>Gateway</th><th>smsid</th><th>State</th><th>Reason</th></tr></thead><tbody></tbody></table>
<h2>Admin alerts</h2>
<p id="alerts-config" class="muted"></p>
<table id="alerts"><thead><tr><th>Time</th><th>Kind</th><th>Subject</th><th>Alert</th><th>Sent to</th></tr></thead><tbody></tbody></table>
<p id="message" class="muted" role="status"></p>
<h2>Administration</h2>
<section class="admin-forms">
<form id="config-form" class="panel"><h3>Config key</h3>
<label>Key <input id="config-key" name="key" required autocomplete="off" placeholder="smsprice"></label>
<label>Value <input id="config-value" name="value" autocomplete="off"></label>
<button type="submit">Set</button></form>
<form id="credit-form" class="panel"><h3>User credit</h3>
<label>User <input id="credit-user" name="user" required autocomplete="off"></label>
<label>Add (negative to take) <input id="credit-add" name="add" required autocomplete="off" placeholder="10.00"></label>
<button type="submit">Apply</button></form>
</section>
<h2>Audit log</h2>
<table id="audit"><thead><tr><th>Time</th><th>Actor</th><th>Source</th><th>Action</th><th>Target</th><th>Details</th><th>Address</th></tr></thead><tbody></tbody></table>
</main>`,
  });
}

/** The ops dashboard at /ops/ (admins): live gateway rows, fleet totals, recent failures, queue actions. */
export function opsRoutes(router: express.Router, ctx: ApiContext): void {
  const area: WebArea = {
    keys: new SessionKeys(ctx.redis, ctx.infra.queuePrefix),
    cookie: COOKIE,
    cookiePath: COOKIE_PATH,
    types: ['admin'],
    current: currentUserCheck(ctx, ['admin']),
  };
  const audit = new AuditRepo(ctx.db);
  const configRepo = new ConfigRepo(ctx.db);
  const entry = (
    req: express.Request,
    s: WebSession,
    e: Omit<AuditInsert, 'actor' | 'actorId' | 'source' | 'remoteAddr'>,
  ): AuditInsert => ({
    ...e,
    actor: s.name,
    actorId: s.userId,
    source: 'web',
    remoteAddr: req.ip ?? req.socket.remoteAddress ?? null,
  });
  const reader = new OpsStateReader(ctx.redis, ctx.infra.queuePrefix);
  ctx.onClose('ops-queues', () => reader.close());
  const page = { title: 'smsfleet ops', hint: 'Administrators only.' };
  mountAssets(router);
  mountLogin(router, ctx, area, page);

  let gatewayList: { at: number; list: Promise<{ id: number; name: string }[]> } | undefined;
  const gateways = () => {
    if (!gatewayList || Date.now() - gatewayList.at > 3_000) {
      const list = ctx.users.listGateways().then((users) => {
        const out = users.map((u) => ({ id: u.id, name: u.name }));
        if (ctx.config.current().smsurl) out.unshift({ id: 0, name: 'smsurl (global)' });
        return out;
      });
      list.catch(() => (gatewayList = undefined));
      gatewayList = { at: Date.now(), list };
    }
    return gatewayList.list;
  };
  let cached: { at: number; state: Promise<OpsState> } | undefined;
  const state = () => {
    if (!cached || Date.now() - cached.at > STATE_CACHE_MS) {
      const p = gateways().then((g) => reader.read(g));
      p.catch(() => (cached = undefined));
      cached = { at: Date.now(), state: p };
    }
    return cached.state;
  };

  // Non-strict routing: '/ops' and '/ops/' reach the same handler; relative URLs need the slash.
  router.get('/ops/', async (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, '/ops/');
      return;
    }
    const s = await sessionOf(req, area);
    if (!s) {
      sendPage(res, loginPage({ ...page, action: '/ops/login' }));
      return;
    }
    sendPage(res, dashboardHtml(s, await area.keys.csrfToken(s)));
  });
  router.get('/ops/api/state', apiGuard(area), async (_req, res) => {
    res.json(await state());
  });
  // Admin alerts by SMS (alerts/alert-monitor.ts): the latest ones and what is configured.
  router.get('/ops/api/alerts', apiGuard(area), async (_req, res) => {
    const cfg = ctx.config.current();
    res.json({
      numbers: parseAlertNumbers(cfg.smsalertnumbers).length,
      gateway: cfg.smsalertgateway,
      thresholds: thresholdsOf(cfg),
      alerts: await readAlerts(ctx.redis, ctx.infra.queuePrefix, 50),
    });
  });

  const known = async (raw: string): Promise<number | undefined> => {
    const id = Number(raw);
    if (!Number.isInteger(id) || id < 0) return undefined;
    return (await gateways()).some((g) => g.id === id) ? id : undefined;
  };
  router.post('/ops/api/gateways/:id/:action', apiGuard(area), async (req, res) => {
    const id = await known(req.params.id as string);
    if (id === undefined) {
      res.status(404).json({ error: `no gateway ${String(req.params.id)}` });
      return;
    }
    const q = reader.queue(id);
    const session = res.locals.session as WebSession;
    switch (req.params.action) {
      case 'pause':
        // Global pause: every dispatcher replica stops fetching; chunks in hand finish.
        await q.pause();
        break;
      case 'resume':
        await q.resume();
        break;
      case 'retry-failed': {
        const failed = await q.getJobCountByTypes('failed');
        await q.retryJobs({ state: 'failed', count: 1000 });
        await audit.record(
          entry(req, session, {
            action: 'gateway.retry-failed',
            target: `gateway:${id}`,
            details: { chunks: failed },
          }),
        );
        ctx.log.warn({ gatewayId: id, chunks: failed, by: session.name }, 'ops: failed chunks retried');
        cached = undefined;
        res.json({ ok: true, retried: failed });
        return;
      }
      default:
        res.status(404).json({ error: `unknown action ${String(req.params.action)}` });
        return;
    }
    await audit.record(
      entry(req, session, { action: `gateway.${req.params.action}`, target: `gateway:${id}` }),
    );
    ctx.log.warn({ gatewayId: id, action: req.params.action, by: session.name }, 'ops: queue action');
    cached = undefined;
    res.json({ ok: true, paused: await q.isPaused() });
  });

  // Config change (same checks as `smsfleet config set`), audited; running services follow the
  // `config` notification.
  router.post('/ops/api/config', apiGuard(area), express.json({ limit: '16kb' }), async (req, res) => {
    const session = res.locals.session as WebSession;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.key !== 'string' || typeof body.value !== 'string') {
      res.status(400).json({ error: 'key and value (strings) are required' });
      return;
    }
    const checked = checkConfigChange(body.key, body.value, await configRepo.getAll());
    if (!checked.ok) {
      res.status(400).json({ error: checked.error });
      return;
    }
    const shown = displayValue(checked.key, checked.value);
    await ctx.db.transaction(async (trx) => {
      await trx('config')
        .insert({ key: checked.key, value: checked.value })
        .onConflict('key')
        .merge(['value']);
      await audit.record(
        entry(req, session, { action: 'config.set', target: checked.key, details: { value: shown } }),
        trx,
      );
    });
    ctx.bus.notify('config');
    ctx.log.warn({ key: checked.key, by: session.name }, 'ops: config changed');
    res.json({ ok: true, key: checked.key, value: shown });
  });

  // Credit of a user (end user or admin): add a signed amount; the change and its audit row commit together.
  router.post('/ops/api/credit', apiGuard(area), express.json({ limit: '4kb' }), async (req, res) => {
    const session = res.locals.session as WebSession;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.user === 'string' ? body.user.trim() : '';
    const add = typeof body.add === 'string' ? body.add.trim() : '';
    const magnitude = add.startsWith('-') ? add.slice(1) : add;
    if (!name || !isDecimal(magnitude) || Number(magnitude) === 0) {
      res
        .status(400)
        .json({ error: 'user and add (a non-zero decimal amount, may be negative) are required' });
      return;
    }
    const u = await ctx.users.findByName(name);
    if (!u || u.type === 'smsgw') {
      res.status(404).json({ error: `no user ${name}` });
      return;
    }
    await ctx.db.transaction(async (trx) => {
      await ctx.users.addCredit(u.id, add, trx);
      await audit.record(
        entry(req, session, {
          action: 'user.credit',
          target: `user:${u.id}`,
          details: { name: u.name, add, before: u.credit },
        }),
        trx,
      );
    });
    ctx.bus.notify('users');
    const after = await ctx.users.findById(u.id);
    res.json({ ok: true, user: u.name, credit: after?.credit ?? null });
  });

  router.get('/ops/api/audit', apiGuard(area), async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit) || 20, 1), 200);
    const rows = await audit.list({ limit });
    res.json({
      entries: rows.map((r) => ({
        id: r.id,
        at: r.at.getTime(),
        actor: r.actor,
        source: r.source,
        action: r.action,
        target: r.target,
        details: r.details,
        remoteAddr: r.remoteAddr,
      })),
    });
  });
}
