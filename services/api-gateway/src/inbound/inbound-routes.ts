import express from 'express';
import { InboxRepo } from '@smsfleet/db';
import type { ApiContext } from '../api-context.js';
import { errorAnswer, MizuError, okAnswer } from '../mizu-answer.js';
import { parseMizuParams } from '../mizu-params.js';
import { apiKeyAuthFor } from '../v1/api-key-auth.js';
import { ProblemError, problem, sendProblem, toProblem } from '../v1/problem.js';
import { acceptInbound } from './accept-inbound.js';

/**
 * Inbound surfaces on Express: the Clickatell-style MO callback posted to the root path
 * (`POST /` with api_id, from, to, timestamp, text, charset, udh, moMsgId), handled by the same
 * smsreceive rules as `/mvapireq/?apientry=smsreceive`, and `GET /v1/inbox` (bearer keys as /v1).
 * Mounted before the /v1 module, whose catch-all would answer 404 for /v1/inbox.
 */
export function inboundRoutes(router: express.Router, ctx: ApiContext): void {
  router.post('/', express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const query = q >= 0 ? url.slice(q + 1) : '';
    const body = typeof req.body === 'string' ? req.body : '';
    const contentType = req.get('content-type');
    const cfg = ctx.config.current();
    try {
      let params;
      try {
        params = parseMizuParams(query, body, contentType);
      } catch (err) {
        throw new MizuError('BAD_REQUEST', (err as Error).message);
      }
      const mo = await acceptInbound(ctx, {
        params,
        query,
        body,
        contentType,
        clientIp: req.socket.remoteAddress ?? '',
      });
      const a = okAnswer({ smsid: mo.id }, false);
      res.status(a.status).type(a.contentType).send(a.body);
    } catch (err) {
      const e = err instanceof MizuError ? err : new MizuError('FAILED', 'internal error');
      if (!(err instanceof MizuError)) ctx.log.error({ err: (err as Error).message }, 'MO callback failed');
      const a = errorAnswer(e, false, cfg.httpstrictresponse);
      res.status(a.status).type(a.contentType).send(a.body);
    }
  });

  const inbox = new InboxRepo(ctx.db);
  const auth = apiKeyAuthFor(ctx);

  /**
   * The caller's inbox, newest first: `limit` (default 50, at most 1000), `before` (an id: page
   * back). The server key (an admin) may read any user's inbox with `userId`.
   */
  router.get('/v1/inbox', async (req, res) => {
    try {
      const principal = await auth.authenticate(req.get('authorization'), req.ip);
      const num = (name: string): number | undefined => {
        const raw = req.query[name];
        if (raw === undefined) return undefined;
        const n = Number(raw);
        if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0)
          throw new ProblemError('VALIDATION', `${name} must be a non-negative integer`);
        return n;
      };
      const limit = num('limit');
      const before = num('before');
      let userId = principal.userId;
      const asked = num('userId');
      if (asked !== undefined && asked !== userId) {
        if (!principal.admin) throw new ProblemError('FORBIDDEN', 'only admins may read another inbox');
        userId = asked;
      }
      const rows = await inbox.listForUser(userId, { limit, beforeId: before });
      res.json({
        messages: rows.map((m) => ({
          id: m.id,
          moId: m.moId,
          from: m.from,
          to: m.to,
          text: m.text,
          parts: m.parts,
          receivedAt: m.receivedAt.toISOString(),
        })),
        next: rows.length > 0 && rows.length === (limit ?? 50) ? rows[rows.length - 1]!.id : null,
      });
    } catch (err) {
      const p = err instanceof ProblemError ? problem(err.code, err.message) : toProblem(err);
      p.instance = '/v1/inbox';
      if (p.status >= 500) ctx.log.error({ err: (err as Error).message }, 'GET /v1/inbox failed');
      sendProblem(res, p);
    }
  });
}
