import { randomUUID } from 'node:crypto';
import express from 'express';
import { parse as parseCsv } from 'csv-parse/sync';
import { CdrRepo, InboxRepo } from '@smsfleet/db';
import type { ApiContext } from '../api-context.js';
import { SendError, sendServiceFor } from '../send-service.js';
import { apiGuard, currentUserCheck, mountLogin, sessionOf, type WebArea } from '../ops/ops-route.js';
import {
  SessionKeys,
  escapeHtml,
  loginPage,
  mountAssets,
  pageHtml,
  sendPage,
  type WebSession,
} from '../ops/web-session.js';

const COOKIE = 'sf_portal';
const COOKIE_PATH = '/portal';
/** Rows of one CSV upload. */
export const MAX_CSV_ROWS = 10_000;
const RECENT_KEEP = 100;
const HISTORY_LIMIT = 50;
const BATCH_TTL_SECONDS = 7 * 24 * 3600;
/** smsids per `WHERE smsid IN (...)` when counting a batch's CDRs. */
const IN_CHUNK = 1000;

interface RecentEntry {
  smsid: string;
  to: string;
  text: string;
  segments: number;
  encoding: string;
  at: number;
  batchId?: string;
}

interface HistoryRow {
  smsid: string;
  to: string;
  text: string | null;
  segments: number;
  state: string;
  reason: string;
  cost: string | null;
  at: number;
  finalAt: number | null;
}

interface PortalBatch {
  id: string;
  userId: number;
  total: number;
  rejected: { row: number; error: string }[];
  smsids: string[];
  createdAt: number;
}

const STATUS: Record<string, number> = {
  DISABLED: 403,
  NOT_ALLOWED: 403,
  BAD_REQUEST: 400,
  MISSING_NUMBER: 400,
  NO_CREDIT: 402,
  NO_GATEWAY: 503,
  UNAVAILABLE: 503,
};

/** `to,text` rows; a first row naming the columns (to|number|phone, text|message) is a header. */
export function parseBatchCsv(body: string): { to: string; text: string; row: number }[] {
  const records: string[][] = parseCsv(body, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: false,
  });
  let start = 0;
  let toCol = 0;
  let textCol = 1;
  const head = records[0]?.map((c) => c.trim().toLowerCase());
  if (head && head.some((c) => ['to', 'number', 'phone', 'bnum'].includes(c))) {
    start = 1;
    toCol = head.findIndex((c) => ['to', 'number', 'phone', 'bnum'].includes(c));
    const t = head.findIndex((c) => ['text', 'message', 'txt'].includes(c));
    textCol = t >= 0 ? t : toCol === 0 ? 1 : 0;
  }
  return records.slice(start).map((r, i) => ({
    to: (r[toCol] ?? '').trim(),
    text: r[textCol] ?? '',
    row: i + start + 1,
  }));
}

function appHtml(s: WebSession, csrf: string): string {
  return pageHtml({
    title: 'smsfleet — SMS',
    csrf,
    scripts: ['/web-assets/sms-counter.js', '/web-assets/portal.js'],
    body: `<header><h1>SMS</h1><span class="muted">signed in as <b id="user">${escapeHtml(s.name)}</b></span>
<span class="balance">Balance: <b id="balance">–</b></span><button id="logout" class="link">Log out</button></header>
<main class="portal">
<section class="panel"><h2>Send an SMS</h2>
<form id="send-form">
<label>To <input id="to" name="to" placeholder="36201234567, 36207654321" required></label>
<label>From <input id="from" name="from" placeholder="optional sender"></label>
<label>Message <textarea id="text" name="text" rows="5" required></textarea></label>
<div id="counter" class="counter" aria-live="polite"><span id="c-encoding">GSM7</span> · <span id="c-left">160</span> characters left · <span id="c-segments">1</span> segment(s) · <span id="c-units">0</span> units</div>
<button type="submit" id="send">Send</button> <span id="send-result" role="status"></span>
</form></section>
<section class="panel"><h2>Bulk send from CSV</h2>
<p class="muted">One message per row: <code>to,text</code> (a header row <code>to,text</code> is optional), at most ${MAX_CSV_ROWS} rows.</p>
<form id="csv-form"><input type="file" id="csv" accept=".csv,text/csv" required> <button type="submit" id="upload">Upload and send</button></form>
<div id="batch" hidden><progress id="batch-progress" max="100" value="0"></progress> <span id="batch-text"></span></div>
</section>
<section class="panel wide"><h2>History</h2>
<table id="history"><thead><tr><th>Time</th><th>To</th><th>Text</th><th>Segments</th><th>State</th><th>Cost</th></tr></thead><tbody></tbody></table>
</section>
<section class="panel wide"><h2>Inbox</h2>
<table id="inbox"><thead><tr><th>Time</th><th>From</th><th>To</th><th>Text</th></tr></thead><tbody></tbody></table>
</section>
</main>`,
  });
}

/** The end-user SMS page at /portal/: send with a live segment counter, balance, history, CSV batches. */
export function portalRoutes(router: express.Router, ctx: ApiContext): void {
  const area: WebArea = {
    keys: new SessionKeys(ctx.redis, ctx.infra.queuePrefix),
    cookie: COOKIE,
    cookiePath: COOKIE_PATH,
    types: ['user'],
    current: currentUserCheck(ctx, ['user']),
  };
  const prefix = ctx.infra.queuePrefix;
  const cdrs = new CdrRepo(ctx.db);
  const page = { title: 'smsfleet — SMS', hint: 'Log in with your account to send SMS.' };
  mountAssets(router);
  mountLogin(router, ctx, area, page);
  const recentKey = (userId: number) => `${prefix}:portal:recent:${userId}`;
  const batchKey = (id: string) => `${prefix}:portal:batch:${id}`;

  /** Keeps the user's latest sends (newest first) so the history shows them before their CDR exists. */
  const remember = async (userId: number, entries: RecentEntry[]) => {
    if (entries.length === 0) return;
    const key = recentKey(userId);
    // LPUSH puts the last argument at the head: the list stays newest first.
    await ctx.redis
      .multi()
      .lpush(key, ...entries.slice(-RECENT_KEEP).map((e) => JSON.stringify(e)))
      .ltrim(key, 0, RECENT_KEEP - 1)
      .expire(key, BATCH_TTL_SECONDS)
      .exec();
  };

  const sendAs = async (
    s: WebSession,
    req: express.Request,
    recipients: string[],
    text: string,
    from: string,
    batchId?: string,
  ) => {
    const result = await sendServiceFor(ctx).send({
      principal: { userId: s.userId, name: s.name, admin: false },
      recipients,
      text,
      from,
      clientIp: req.socket.remoteAddress ?? '',
      ...(batchId ? { batchId } : {}),
    });
    const at = Date.now();
    await remember(
      s.userId,
      result.messages.map((m) => ({
        smsid: m.smsid,
        to: m.to,
        text: text.length > 80 ? `${text.slice(0, 79)}…` : text,
        segments: m.segments,
        encoding: m.encoding,
        at,
        ...(batchId ? { batchId } : {}),
      })),
    ).catch((err: Error) => ctx.log.warn({ err: err.message }, 'portal history not recorded'));
    return result;
  };

  const sendError = (res: express.Response, err: unknown) => {
    if (err instanceof SendError) {
      res.status(STATUS[err.code] ?? 400).json({ error: err.message, code: err.code });
      return;
    }
    throw err;
  };

  // Non-strict routing: '/portal' and '/portal/' reach the same handler; relative URLs need the slash.
  router.get('/portal/', async (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, '/portal/');
      return;
    }
    const s = await sessionOf(req, area);
    if (!s) {
      sendPage(res, loginPage({ ...page, action: '/portal/login' }));
      return;
    }
    sendPage(res, appHtml(s, await area.keys.csrfToken(s)));
  });

  router.get('/portal/api/me', apiGuard(area), async (_req, res) => {
    const s = res.locals.session as WebSession;
    const u = await ctx.users.findById(s.userId);
    if (!u) {
      res.status(401).json({ error: 'login required' });
      return;
    }
    res.json({ name: u.name, credit: u.credit, creditLimit: u.creditLimit, smsAllowed: u.smsAllowed });
  });

  router.post('/portal/api/send', apiGuard(area), express.json({ limit: '64kb' }), async (req, res) => {
    const s = res.locals.session as WebSession;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const to = typeof body.to === 'string' ? body.to : '';
    const text = typeof body.text === 'string' ? body.text : '';
    const from = typeof body.from === 'string' ? body.from : '';
    const recipients = to.split(/[\s,;]+/).filter((x) => x !== '');
    if (recipients.length > 100) {
      res.status(400).json({ error: 'at most 100 recipients here; upload a CSV for more' });
      return;
    }
    try {
      const r = await sendAs(s, req, recipients, text, from);
      res.json({
        messages: r.messages.map((m) => ({
          smsid: m.smsid,
          to: m.to,
          segments: m.segments,
          encoding: m.encoding,
        })),
        reserved: r.reserved ?? null,
      });
    } catch (err) {
      sendError(res, err);
    }
  });

  // Incoming SMS delivered to this user's inbox (smsreceive_route chat).
  const inbox = new InboxRepo(ctx.db);
  router.get('/portal/api/inbox', apiGuard(area), async (_req, res) => {
    const s = res.locals.session as WebSession;
    const list = await inbox.listForUser(s.userId, { limit: 50 });
    res.json({ messages: list.map((m) => ({ at: m.receivedAt, from: m.from, to: m.to, text: m.text })) });
  });

  router.get('/portal/api/history', apiGuard(area), async (_req, res) => {
    const s = res.locals.session as WebSession;
    const recent = (await ctx.redis.lrange(recentKey(s.userId), 0, HISTORY_LIMIT - 1)).flatMap((r) => {
      try {
        return [JSON.parse(r) as RecentEntry];
      } catch {
        return [];
      }
    });
    const [own, older] = await Promise.all([
      recent.length
        ? (ctx
            .db('cdr')
            .select(
              'smsid',
              'callee',
              'segments',
              'state',
              'disconnect_reason',
              'cost',
              'accepted_at',
              'final_at',
            )
            .whereIn(
              'smsid',
              recent.map((r) => r.smsid),
            ) as Promise<
            {
              smsid: string;
              callee: string;
              segments: number;
              state: string;
              disconnect_reason: string;
              cost: string;
              accepted_at: Date;
              final_at: Date;
            }[]
          >)
        : Promise.resolve([]),
      cdrs.list({ userId: s.userId, limit: HISTORY_LIMIT }),
    ]);
    const cdrBySmsid = new Map(own.map((c) => [c.smsid, c]));
    const rows = new Map<string, HistoryRow>();
    for (const r of recent) {
      const c = cdrBySmsid.get(r.smsid);
      rows.set(r.smsid, {
        smsid: r.smsid,
        to: r.to,
        text: r.text,
        segments: r.segments,
        state: c?.state ?? 'queued',
        reason: c?.disconnect_reason ?? '',
        cost: c?.cost ?? null,
        at: r.at,
        finalAt: c ? c.final_at.getTime() : null,
      });
    }
    for (const c of older) {
      if (rows.has(c.smsid)) continue;
      rows.set(c.smsid, {
        smsid: c.smsid,
        to: c.callee,
        text: null,
        segments: c.segments,
        state: c.state,
        reason: c.disconnectReason,
        cost: c.cost,
        at: c.acceptedAt.getTime(),
        finalAt: c.finalAt.getTime(),
      });
    }
    const list = [...rows.values()].sort((a, b) => b.at - a.at).slice(0, HISTORY_LIMIT);
    res.json({ messages: list });
  });

  router.post(
    '/portal/api/batches',
    apiGuard(area),
    express.text({ type: ['text/csv', 'text/plain', 'application/octet-stream'], limit: '4mb' }),
    async (req, res) => {
      const s = res.locals.session as WebSession;
      const body = typeof req.body === 'string' ? req.body : '';
      let rows: { to: string; text: string; row: number }[];
      try {
        rows = parseBatchCsv(body);
      } catch (err) {
        res.status(400).json({ error: `not a CSV file: ${(err as Error).message}` });
        return;
      }
      if (rows.length === 0) {
        res.status(400).json({ error: 'the CSV has no rows' });
        return;
      }
      if (rows.length > MAX_CSV_ROWS) {
        res.status(400).json({ error: `too many rows (${rows.length}, at most ${MAX_CSV_ROWS})` });
        return;
      }
      const rejected: { row: number; error: string }[] = [];
      const byText = new Map<string, string[]>();
      for (const r of rows) {
        if (!r.to || r.text.trim() === '') {
          rejected.push({ row: r.row, error: !r.to ? 'missing number' : 'empty text' });
          continue;
        }
        const l = byText.get(r.text) ?? [];
        l.push(r.to);
        byText.set(r.text, l);
      }
      const id = randomUUID();
      const smsids: string[] = [];
      // One send (one credit reservation) per distinct text: a mail-merge CSV costs one call per row,
      // a broadcast CSV a single one.
      for (const [text, recipients] of byText) {
        try {
          const r = await sendAs(s, req, recipients, text, '', id);
          for (const m of r.messages) smsids.push(m.smsid);
        } catch (err) {
          if (!(err instanceof SendError)) throw err;
          if (
            smsids.length === 0 &&
            (err.code === 'NO_CREDIT' || err.code === 'NOT_ALLOWED' || err.code === 'DISABLED')
          ) {
            sendError(res, err);
            return;
          }
          rejected.push({ row: 0, error: `${recipients.length} message(s): ${err.message}` });
        }
      }
      const batch: PortalBatch = {
        id,
        userId: s.userId,
        total: smsids.length,
        rejected,
        smsids,
        createdAt: Date.now(),
      };
      await ctx.redis.set(batchKey(id), JSON.stringify(batch), 'EX', BATCH_TTL_SECONDS);
      res.status(201).json({ id, total: smsids.length, rejected: rejected.slice(0, 100) });
    },
  );

  router.get('/portal/api/batches/:id', apiGuard(area), async (req, res) => {
    const s = res.locals.session as WebSession;
    const raw = await ctx.redis.get(batchKey(String(req.params.id)));
    const batch = raw ? (JSON.parse(raw) as PortalBatch) : undefined;
    if (!batch || batch.userId !== s.userId) {
      res.status(404).json({ error: 'no such batch' });
      return;
    }
    // Progress = messages with their CDR (final state and billed), counted by state.
    const states: Record<string, number> = {};
    let done = 0;
    for (let i = 0; i < batch.smsids.length; i += IN_CHUNK) {
      const part: { state: string; n: number | string }[] = await ctx
        .db('cdr')
        .select('state')
        .count({ n: '*' })
        .whereIn('smsid', batch.smsids.slice(i, i + IN_CHUNK))
        .groupBy('state');
      for (const p of part) {
        states[p.state] = (states[p.state] ?? 0) + Number(p.n);
        done += Number(p.n);
      }
    }
    res.json({ id: batch.id, total: batch.total, done, states, rejected: batch.rejected.length });
  });
}
