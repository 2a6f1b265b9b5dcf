import {
  extractInboundSms,
  ipAllowed,
  isValidMoId,
  newSmsId,
  parseConcatUdh,
  parseIpAllowList,
  passesCheck,
  rawRequestText,
  type IpAllowList,
  type MoMessage,
} from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import type { ApiContext } from '../api-context.js';
import { MizuError } from '../mizu-answer.js';
import { param, type MizuParams } from '../mizu-params.js';

/** An inbound HTTP request as the smsreceive rules see it. */
export interface InboundHttpRequest {
  params: MizuParams;
  /** Query string as received, without `?`. */
  query: string;
  body: string;
  contentType: string | undefined;
  clientIp: string;
}

/** Provider message ids that make redelivered callbacks idempotent (Clickatell: moMsgId). */
const PROVIDER_ID_PARAMS = ['momsgid', 'messageid', 'message_id', 'msgid', 'smsid', 'id'];

/** Allow lists parsed once per configured value (config changes swap the snapshot). */
const allowListCache = new Map<string, IpAllowList>();
function allowList(value: string): IpAllowList {
  let l = allowListCache.get(value);
  if (!l) {
    if (allowListCache.size > 64) allowListCache.clear();
    l = parseIpAllowList(value);
    allowListCache.set(value, l);
  }
  return l;
}

/**
 * The checks of `smsreceive` in the seed's order: receiving on (`smsreceive_route`), the poster's
 * address (`smsreceive_ip`), the check string (`smsreceive_check`), then sender, target and text by
 * the `smsreceive_from|to|message` rules. Returns the message to queue, or throws a MizuError.
 */
export function inboundFromRequest(
  req: InboundHttpRequest,
  cfg: ConfigSnapshot,
  now = Date.now(),
): MoMessage {
  if (cfg.smsreceive_route === 0)
    throw new MizuError('DISABLED', 'receiving SMS is disabled (smsreceive_route=0)');
  if (!ipAllowed(allowList(cfg.smsreceive_ip), req.clientIp))
    throw new MizuError('NOT_ALLOWED', 'incoming SMS are not accepted from this address');
  const bodyFormEncoded = (req.contentType ?? '').toLowerCase().includes('x-www-form-urlencoded');
  const input = { params: req.params, query: req.query, body: req.body, bodyFormEncoded };
  if (!passesCheck(cfg.smsreceive_check, rawRequestText(input)))
    throw new MizuError('BAD_REQUEST', 'not an incoming SMS (smsreceive_check not found): dropped');
  const r = extractInboundSms(cfg, input);
  if (!r.ok)
    throw new MizuError(
      r.missing === 'message' ? 'BAD_REQUEST' : 'MISSING_NUMBER',
      `missing ${r.missing} in the incoming SMS`,
    );
  if (r.sms.to.length > 64 || r.sms.from.length > 64) throw new MizuError('BAD_REQUEST', 'number too long');
  const providerId = param(req.params, ...PROVIDER_ID_PARAMS);
  const udh = param(req.params, 'udh');
  const part = udh ? parseConcatUdh(udh) : undefined;
  const cbAllowed = ipAllowed(allowList(cfg.httpsmcallbackip), req.clientIp);
  return {
    id: providerId && isValidMoId(providerId) ? providerId : newSmsId(),
    from: r.sms.from,
    to: r.sms.to,
    text: r.sms.message,
    receivedAt: now,
    source: 'http',
    gatewayId: 0,
    clientIp: req.clientIp,
    ...(part ? { part } : {}),
    commandsAllowed: cbAllowed,
  };
}

/**
 * Validates and hands the message to the durable queue (JetStream subject `mo`), then answers: the
 * inbound service delivers it. A provider retrying the same callback (same id) inside the stream's
 * duplicate window is stored once.
 */
export async function acceptInbound(ctx: ApiContext, req: InboundHttpRequest): Promise<MoMessage> {
  const cfg = ctx.config.current();
  const mo = inboundFromRequest(req, cfg);
  try {
    await ctx.bus.publish<MoMessage>('mo', [mo], `mo:${mo.id}`);
  } catch (err) {
    ctx.log.error({ err: (err as Error).message }, 'inbound SMS not queued');
    throw new MizuError('UNAVAILABLE', 'the incoming SMS could not be queued, try again');
  }
  ctx.log.info(
    { moId: mo.id, state: 'received', source: mo.source, part: mo.part?.seq, ip: mo.clientIp },
    'mo state',
  );
  return mo;
}
