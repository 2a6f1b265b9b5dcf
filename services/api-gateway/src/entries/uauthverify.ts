import type { ApiContext } from '../api-context.js';
import { authenticate, mizuAuthDeps } from '../auth.js';
import { MizuError, type MizuAnswer } from '../mizu-answer.js';
import { param } from '../mizu-params.js';
import type { MizuRequest } from '../mizu-types.js';
import { VerifyError, verifyCodesFor } from '../verify/verify-codes.js';

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);

function principalOf(req: MizuRequest, ctx: ApiContext) {
  return authenticate(req.params, mizuAuthDeps(req, ctx));
}

/**
 * The address the per-address limits count. A sign-up page usually calls from its own server with
 * the server key: the key holder (admins too) may name the visitor's address in `userip`.
 */
function limitAddress(req: MizuRequest, admin: boolean): string {
  const named = param(req.params, 'userip')?.trim();
  return admin && named ? named.slice(0, 64) : req.clientIp;
}

function answer(json: boolean, text: string, fields: Record<string, unknown>): MizuAnswer {
  return json
    ? { status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'OK', ...fields }) }
    : { status: 200, contentType: 'text/plain; charset=utf-8', body: `OK ${text}` };
}

async function mapped<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof VerifyError) throw new MizuError(err.code, err.message);
    throw err;
  }
}

/**
 * `uauthverifysend`: sends a verification code by SMS to `bnum` (or `to`). Authenticated (the
 * server key for sign-up pages, or a user); answers `OK <smsid>` of the code SMS.
 * `format=json`: `{status, smsid, number, expiresAt}`.
 */
export async function uauthverifysend(req: MizuRequest, ctx: ApiContext): Promise<MizuAnswer> {
  const principal = await principalOf(req, ctx);
  const r = await mapped(() =>
    verifyCodesFor(ctx).send({
      principal,
      number: param(req.params, 'bnum', 'bnun', 'to') ?? '',
      clientIp: limitAddress(req, principal.admin),
      cfg: req.cfg,
    }),
  );
  return answer(req.json, r.smsid, { smsid: r.smsid, number: r.number, expiresAt: r.expiresAt });
}

/**
 * `uauthverifycheck`: checks `code` for `bnum`. Answers `OK verified <number>`; with `attach=1`
 * the number is also registered to the authenticated user as a caller-id
 * (`OK verified <number> registered`). Wrong, expired or used-up codes: `ERROR <reason>` (420
 * with httpstrictresponse).
 */
export async function uauthverifycheck(req: MizuRequest, ctx: ApiContext): Promise<MizuAnswer> {
  const principal = await principalOf(req, ctx);
  const attach = TRUE_WORDS.has((param(req.params, 'attach') ?? '').trim().toLowerCase());
  const r = await mapped(() =>
    verifyCodesFor(ctx).check({
      principal,
      number: param(req.params, 'bnum', 'bnun', 'to') ?? '',
      code: param(req.params, 'code') ?? '',
      clientIp: limitAddress(req, principal.admin),
      attach,
      cfg: req.cfg,
    }),
  );
  const registered = r.registeredFor !== undefined;
  return answer(req.json, `verified ${r.number}${registered ? ' registered' : ''}`, {
    verified: true,
    number: r.number,
    ...(registered ? { registeredFor: r.registeredFor, registration: r.registration } : {}),
  });
}
