import { timingSafeEqual } from 'node:crypto';
import type express from 'express';
import { SMS_STATES } from '@smsfleet/core';
import { cdrsToCsv, searchCdrs, type CdrSearch, type CdrSearchRow } from '@smsfleet/db';
import type { ApiContext } from './api-context.js';
import { apiKeyAuthFor, type V1Principal } from './v1/api-key-auth.js';
import { ProblemError, sendProblem, toProblem } from './v1/problem.js';

const MAX_LIMIT = 10_000;

function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function one(q: unknown): string | undefined {
  if (q === undefined) return undefined;
  if (typeof q !== 'string') throw new ProblemError('VALIDATION', 'each query parameter may be given once');
  return q;
}

function time(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new ProblemError('VALIDATION', `${name} must be an ISO 8601 time`);
  return d;
}

function intParam(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new ProblemError('VALIDATION', `${name} must be an integer between ${min} and ${max}`);
  return n;
}

/** Parses the filters shared with `smsfleet cdr list`. */
export function parseCdrQuery(query: Record<string, unknown>): CdrSearch & { format: 'json' | 'csv' } {
  const known = new Set([
    'user',
    'gateway',
    'status',
    'since',
    'until',
    'number',
    'limit',
    'before',
    'format',
    'authkey',
  ]);
  for (const k of Object.keys(query))
    if (!known.has(k)) throw new ProblemError('VALIDATION', `unknown query parameter: ${k}`);
  const status = one(query['status']);
  if (status !== undefined && !(SMS_STATES as readonly string[]).includes(status))
    throw new ProblemError('VALIDATION', `status must be one of ${SMS_STATES.join(', ')}`);
  const number = one(query['number']);
  if (number !== undefined && !/^\+?[0-9A-Za-z]{1,64}\*?$/.test(number))
    throw new ProblemError(
      'VALIDATION',
      'number: digits (or a sender name), optionally ending with * for a prefix',
    );
  const format = one(query['format']) ?? 'json';
  if (format !== 'json' && format !== 'csv')
    throw new ProblemError('VALIDATION', 'format must be json or csv');
  return {
    userId: intParam('user', one(query['user']), 0, 2 ** 32 - 1),
    gatewayId: intParam('gateway', one(query['gateway']), 0, 2 ** 32 - 1),
    state: status,
    since: time('since', one(query['since'])),
    until: time('until', one(query['until'])),
    number,
    beforeId: intParam('before', one(query['before']), 1, Number.MAX_SAFE_INTEGER),
    limit: intParam('limit', one(query['limit']), 1, MAX_LIMIT) ?? 100,
    format,
  };
}

function toJson(r: CdrSearchRow) {
  return {
    id: r.id,
    type: r.type,
    smsid: r.smsid,
    userId: r.userId,
    gatewayId: r.gatewayId,
    from: r.caller,
    to: r.callee,
    segments: r.segments,
    duration: r.duration,
    cost: r.cost,
    state: r.state,
    disconnectReason: r.disconnectReason,
    comment: r.comment,
    providerMessageId: r.providerMsgid,
    clientIp: r.clientIp,
    routeAttempt: r.routeAttempt,
    acceptedAt: r.acceptedAt.toISOString(),
    submittedAt: r.submittedAt?.toISOString() ?? null,
    finalAt: r.finalAt.toISOString(),
  };
}

/**
 * `GET /v1/cdrs`: CDR search with the filters of `smsfleet cdr list` (user, gateway, status, since,
 * until, number, limit, before) as JSON (`{ cdrs, next }`, newest first) or CSV (`format=csv`).
 * Bearer API keys as the rest of /v1; an end user sees only their own CDRs. The server key also
 * works as Mizu's `authkey` (query or `x-authkey` header) for admin tools.
 * Mounted before the /v1 router, whose catch-all would answer 404.
 */
export const cdrsRoute = (router: express.Router, ctx: ApiContext): void => {
  const auth = apiKeyAuthFor(ctx);

  const principal = async (req: express.Request): Promise<V1Principal> => {
    const authkey =
      (typeof req.query['authkey'] === 'string' ? req.query['authkey'] : undefined) ?? req.get('x-authkey');
    if (authkey !== undefined) {
      const serverKey = ctx.config.current().apiv2key;
      if (serverKey && sameSecret(authkey, serverKey))
        return { userId: 0, name: 'authkey', admin: true, keyId: 0 };
      throw new ProblemError('UNAUTHORIZED', 'wrong authkey');
    }
    return auth.authenticate(req.get('authorization'), req.ip);
  };

  router.get('/v1/cdrs', async (req, res) => {
    try {
      const who = await principal(req);
      const q = parseCdrQuery(req.query);
      if (!who.admin) {
        if (q.userId !== undefined && q.userId !== who.userId)
          throw new ProblemError('FORBIDDEN', 'an API key sees the CDRs of its own user only');
        q.userId = who.userId;
      }
      const { format, ...search } = q;
      const rows = await searchCdrs(ctx.db, search);
      if (format === 'csv') {
        res
          .status(200)
          .type('text/csv; charset=utf-8')
          .set('content-disposition', 'attachment; filename="cdrs.csv"')
          .send(cdrsToCsv(rows));
        return;
      }
      const last = rows[rows.length - 1];
      res.json({
        cdrs: rows.map(toJson),
        // Paging back: the same filters with before=<next>.
        next: rows.length === search.limit && last ? last.id : null,
      });
    } catch (err) {
      const p = toProblem(err);
      if (p.status >= 500) ctx.log.error({ err: (err as Error).message }, 'GET /v1/cdrs failed');
      sendProblem(res, { ...p, instance: '/v1/cdrs' });
    }
  });
};
