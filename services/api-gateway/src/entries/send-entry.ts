import type { ApiContext } from '../api-context.js';
import { authenticate, mizuAuthDeps } from '../auth.js';
import { MizuError, okAnswer, type MizuAnswer } from '../mizu-answer.js';
import { param } from '../mizu-params.js';
import type { MizuEntry, MizuRequest } from '../mizu-types.js';
import { SendError, sendServiceFor, type SendWait, type SentMessage } from '../send-service.js';

/** `bnum` may list several recipients separated by `,` or `;` (as SMPP `recipients`). */
export const MAX_RECIPIENTS = 1000;

export interface SendEntrySpec {
  /** The entry's name, for error texts. */
  name: string;
  /** Admin entries (`asendsms*`) refuse end users; end-user entries check rights and credit. */
  admin: boolean;
  /** Sync entries wait for the final state; async ones answer on enqueue (or on submit with smsthread=0). */
  sync: boolean;
}

function stateText(m: SentMessage): string {
  const s = m.status;
  if (!s) return 'unknown';
  if (s.state === 'timeout') return `timeout (smsid ${m.smsid})`;
  return `${s.state}${s.reason ? `: ${s.reason.slice(0, 200)}` : ''} (smsid ${m.smsid})`;
}

/**
 * The Mizu send entries (`sendsms`, `sendsmssync`, `asendsms`, `asendsmssync`, `sms`): Mizu's
 * parameters and answers around SendService, which holds the rules.
 */
export function sendEntry(spec: SendEntrySpec): MizuEntry {
  return async (req: MizuRequest, ctx: ApiContext): Promise<MizuAnswer> => {
    const { params: p, cfg } = req;
    // Before authentication: a disabled module answers the same to everyone, cheaply.
    if (!cfg.enablesms) throw new MizuError('DISABLED', 'SMS is disabled on this server (enablesms=false)');
    const principal = await authenticate(p, mizuAuthDeps(req, ctx));
    if (spec.admin && !principal.admin)
      throw new MizuError(
        'NOT_ALLOWED',
        `${spec.name} is for admins; end users use ${spec.name.replace(/^a/, '')}`,
      );
    const rawTo = param(p, 'bnum', 'bnun', 'to');
    if (rawTo === undefined || rawTo.trim() === '')
      throw new MizuError('MISSING_NUMBER', 'missing target number (bnum or to)');
    const recipients = rawTo.split(/[,;]/).filter((s) => s.trim() !== '');
    if (recipients.length > MAX_RECIPIENTS)
      throw new MizuError('BAD_REQUEST', `too many recipients (at most ${MAX_RECIPIENTS})`);
    // `now` is a cache-buster: ignored.
    const wait: SendWait = spec.sync ? 'final' : cfg.smsthread === 0 ? 'submitted' : 'accepted';
    let messages: SentMessage[];
    try {
      ({ messages } = await sendServiceFor(ctx).send({
        principal,
        recipients,
        text: param(p, 'message', 'txt') ?? '',
        from: param(p, 'anum', 'from') ?? '',
        clientIp: req.clientIp,
        wait,
        cfg,
      }));
    } catch (err) {
      if (err instanceof SendError) throw new MizuError(err.code, err.message);
      throw err;
    }
    const ids = messages.map((m) => m.smsid);
    const fields = ids.length === 1 ? { smsid: ids[0]! } : { smsids: ids };
    if (wait === 'accepted') return okAnswer(fields, req.json);

    const states = messages.map((m) => ({
      smsid: m.smsid,
      state: m.status?.state ?? 'unknown',
      ...(m.status?.reason ? { reason: m.status.reason } : {}),
    }));
    const bad = messages.filter((m) => !m.status?.ok);
    const details = ids.length === 1 ? { state: states[0]!.state } : { results: states };
    if (bad.length === 0) return okAnswer(fields, req.json, details);
    const first = bad[0]!;
    const timeout = bad.every((m) => m.status?.state === 'timeout');
    const text =
      messages.length === 1
        ? stateText(first)
        : `${bad.length} of ${messages.length} messages not sent: ${stateText(first)}`;
    throw new MizuError(timeout ? 'TIMEOUT' : 'FAILED', text, { ...fields, ...details });
  };
}
