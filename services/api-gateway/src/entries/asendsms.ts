import { countSegments, newSmsId, type OutboundSms } from '@smsfleet/core';
import type { ApiContext } from '../api-context.js';
import { authenticate } from '../auth.js';
import { MizuError, okAnswer, type MizuAnswer } from '../mizu-answer.js';
import type { MizuRequest } from '../mizu-types.js';
import { param } from '../mizu-params.js';
import { normaliseNumber, normaliseSender } from '../numbers.js';

export const MAX_SEGMENTS = 255;
/** `bnum` may list several recipients separated by `,` or `;` (as SMPP `recipients`). */
export const MAX_RECIPIENTS = 1000;

/** `asendsms`: an admin (or the `authkey` holder) sends without rights or credit checks. */
export async function asendsms(req: MizuRequest, ctx: ApiContext): Promise<MizuAnswer> {
  const { params: p, cfg } = req;
  if (!cfg.enablesms) throw new MizuError('DISABLED', 'SMS is disabled on this server (enablesms=false)');
  const principal = await authenticate(p, {
    apiv2key: cfg.apiv2key,
    findUser: (n) => ctx.userCache.get(n),
    claimSalt: (a, s) => ctx.claimSalt(a, s),
  });
  if (!principal.admin) throw new MizuError('NOT_ALLOWED', 'asendsms is for admins; end users use sendsms');
  const rawTo = param(p, 'bnum', 'bnun', 'to');
  if (rawTo === undefined || rawTo.trim() === '')
    throw new MizuError('MISSING_NUMBER', 'missing target number (bnum or to)');
  const rawList = rawTo.split(/[,;]/).filter((s) => s.trim() !== '');
  if (rawList.length > MAX_RECIPIENTS)
    throw new MizuError('BAD_REQUEST', `too many recipients (at most ${MAX_RECIPIENTS})`);
  const numbers: string[] = [];
  for (const raw of rawList) {
    const to = normaliseNumber(raw);
    if (!to) throw new MizuError('BAD_REQUEST', `invalid target number: ${raw.trim().slice(0, 32)}`);
    numbers.push(to);
  }
  if (numbers.length === 0) throw new MizuError('MISSING_NUMBER', 'missing target number (bnum or to)');
  const from = normaliseSender(param(p, 'anum', 'from') ?? '');
  if (from === undefined) throw new MizuError('BAD_REQUEST', 'invalid sender (anum or from)');
  const message = param(p, 'message', 'txt') ?? '';
  if (message.trim() === '') throw new MizuError('BAD_REQUEST', 'empty message');
  const text = cfg.smssignature ? `${message}${cfg.smssignature}` : message;
  const count = countSegments(text);
  if (count.segments > MAX_SEGMENTS)
    throw new MizuError(
      'BAD_REQUEST',
      `message too long (${count.segments} segments, at most ${MAX_SEGMENTS})`,
    );
  const acceptedAt = Date.now();
  const msgs: OutboundSms[] = numbers.map((to) => {
    const gw = ctx.chooseGateway(cfg, { to, from, userId: principal.userId });
    if (!gw)
      throw new MizuError('NO_GATEWAY', 'no SMS gateway configured (set smsurl or add an SMS GW user)');
    return {
      smsid: newSmsId(),
      userId: principal.userId,
      gatewayId: gw.id,
      from,
      to,
      text,
      encoding: count.encoding,
      segments: count.segments,
      clientIp: req.clientIp,
      acceptedAt,
    };
  });
  try {
    await (msgs.length === 1 ? ctx.pipeline.accept(msgs[0]!) : ctx.pipeline.acceptMany(msgs));
  } catch (err) {
    ctx.log.error({ err: (err as Error).message }, 'enqueue failed');
    throw new MizuError('UNAVAILABLE', 'the message could not be queued, try again');
  }
  return msgs.length === 1
    ? okAnswer({ smsid: msgs[0]!.smsid }, req.json)
    : okAnswer({ smsids: msgs.map((m) => m.smsid) }, req.json);
}
