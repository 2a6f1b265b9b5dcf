import express from 'express';
import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { apiKeyAuthFor } from '../v1/api-key-auth.js';
import { ProblemError, sendProblem, toProblem } from '../v1/problem.js';
import { zodErrors } from '../v1/v1-routes.js';
import { verifyCodesFor } from './verify-codes.js';

const Number_ = z.string().min(1).max(32);
const UserIp = z.string().min(1).max(64);

/** Body of `POST /v1/verifications`. */
export const SendVerificationRequest = z
  .object({
    to: Number_.describe('Number the code is sent to'),
    userIp: UserIp.optional().describe(
      "Admin keys: the end user's address, counted by the per-address limit",
    ),
  })
  .strict();

/** Body of `POST /v1/verifications/check`. */
export const CheckVerificationRequest = z
  .object({
    to: Number_.describe('Number the code was sent to'),
    code: z.string().min(1).max(40).describe('The code as typed (spaces and dashes are ignored)'),
    attach: z.boolean().optional().describe("Register the verified number as the key's user's caller-id"),
    userIp: UserIp.optional().describe(
      "Admin keys: the end user's address, counted by the per-address limit",
    ),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object')
    throw new ProblemError('BAD_REQUEST', 'send a JSON object (Content-Type: application/json)');
  const r = schema.safeParse(body);
  if (!r.success)
    throw new ProblemError('VALIDATION', 'invalid request; nothing was sent', zodErrors(r.error));
  return r.data;
}

/**
 * `/v1` equivalents of the Mizu entries `uauthverifysend` / `uauthverifycheck` (bearer API keys;
 * the same rules, limits and storage: verify-codes.ts). Mounted before the /v1 router, whose
 * catch-all would answer 404; documented in v1/openapi.ts as external operations.
 */
export const verifyRoutes = (router: express.Router, ctx: ApiContext): void => {
  const auth = apiKeyAuthFor(ctx);
  const json = express.json({ limit: '8kb' });
  // Body errors (bad JSON, too large) answer a problem document like the rest of /v1.
  const body: express.RequestHandler = (req, res, next) =>
    json(req, res, (err?: unknown) => {
      if (err) sendProblem(res, { ...toProblem(err), instance: req.path });
      else next();
    });
  const handle =
    (path: string, fn: (req: express.Request, res: express.Response) => Promise<void>) =>
    async (req: express.Request, res: express.Response) => {
      try {
        await fn(req, res);
      } catch (err) {
        const p = toProblem(err);
        if (p.status >= 500) ctx.log.error({ err: (err as Error).message }, `POST ${path} failed`);
        sendProblem(res, { ...p, instance: path });
      }
    };

  router.post(
    '/v1/verifications',
    body,
    handle('/v1/verifications', async (req, res) => {
      const who = await auth.authenticate(req.get('authorization'), req.ip);
      const b = parse(SendVerificationRequest, req.body);
      const r = await verifyCodesFor(ctx).send({
        principal: who,
        number: b.to,
        clientIp: who.admin && b.userIp ? b.userIp : (req.ip ?? ''),
        cfg: ctx.config.current(),
      });
      res.status(202).json({ smsid: r.smsid, to: r.number, expiresAt: new Date(r.expiresAt).toISOString() });
    }),
  );

  router.post(
    '/v1/verifications/check',
    body,
    handle('/v1/verifications/check', async (req, res) => {
      const who = await auth.authenticate(req.get('authorization'), req.ip);
      const b = parse(CheckVerificationRequest, req.body);
      const r = await verifyCodesFor(ctx).check({
        principal: who,
        number: b.to,
        code: b.code,
        attach: b.attach ?? false,
        clientIp: who.admin && b.userIp ? b.userIp : (req.ip ?? ''),
        cfg: ctx.config.current(),
      });
      res.json({
        verified: true,
        to: r.number,
        ...(r.registeredFor !== undefined
          ? { registeredFor: r.registeredFor, registration: r.registration }
          : {}),
      });
    }),
  );
};
