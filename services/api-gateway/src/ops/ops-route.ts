import express from 'express';
import type { User, UserType } from '@smsfleet/db';
import type { ApiContext } from '../api-context.js';
import { OpsStateReader, type OpsState } from './ops-state.js';
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
}

/** The session of a request to a web area, or undefined. */
export async function sessionOf(req: express.Request, area: WebArea): Promise<WebSession | undefined> {
  const s = await area.keys.verify(readCookie(req, area.cookie));
  return s && area.types.includes(s.type) ? s : undefined;
}

/** Guards JSON endpoints: a session, and for anything but GET the CSRF header. */
export function apiGuard(area: WebArea) {
  return async (req: express.Request, res: express.Response, next: express.NextFunction) => {
    const s = await sessionOf(req, area);
    if (!s) {
      res.status(401).json({ error: 'login required' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const token = req.get('x-csrf-token') ?? '';
      if (!safeEqual(token, await area.keys.csrfToken(s))) {
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
    const user: User | undefined = sameOrigin(req)
      ? await checkLogin((n) => ctx.users.findByName(n), name, password, area.types)
      : undefined;
    if (!user) {
      ctx.log.info({ area: base, user: name.slice(0, 64) }, 'web login refused');
      sendPage(
        res,
        loginPage({ ...page, action: `${base}/login`, error: 'Wrong user name or password.' }),
        401,
      );
      return;
    }
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
    scripts: ['/web-assets/ops.js'],
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
<p id="message" class="muted" role="status"></p>
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
  };
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
        ctx.log.warn({ gatewayId: id, chunks: failed, by: session.name }, 'ops: failed chunks retried');
        cached = undefined;
        res.json({ ok: true, retried: failed });
        return;
      }
      default:
        res.status(404).json({ error: `unknown action ${String(req.params.action)}` });
        return;
    }
    ctx.log.warn({ gatewayId: id, action: req.params.action, by: session.name }, 'ops: queue action');
    cached = undefined;
    res.json({ ok: true, paused: await q.isPaused() });
  });
}
