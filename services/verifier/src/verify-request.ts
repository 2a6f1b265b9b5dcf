import { request, type Dispatcher } from 'undici';
import { classifyVerifyAnswer, compileTemplate, type SmsEvent, type VerifyVerdict } from '@smsfleet/core';

export interface VerifyConfig {
  /** `smsverifyurl`: the smsurl keywords plus `[messageid]`; without `[messageid]` the id is added as `messageId=`. */
  url: string;
  /** `smssenddataverify`: POST body template; GET when empty. */
  body: string;
  timeoutMs: number;
}

function withMessageId(template: string, id: string, encode: (s: string) => string): string {
  return template.replace(/\[messageid\]/gi, encode(id));
}

/** Builds the verify request of one submitted message (exported for tests). */
export function buildVerifyRequest(
  cfg: VerifyConfig,
  e: SmsEvent,
): { url: string; method: 'GET' | 'POST'; body?: string } {
  const id = e.providerMessageId ?? '';
  const values = {
    fromid: e.msg.userId,
    fromnum: e.msg.from,
    tonum: e.msg.to,
    message: e.msg.text,
    smscounter: e.msg.segments,
    smsid: e.smsid,
    gatewayid: e.msg.gatewayId,
    clientip: e.msg.clientIp,
  };
  let urlTemplate = withMessageId(cfg.url, id, encodeURIComponent);
  if (!/\[messageid\]/i.test(cfg.url) && !cfg.body) {
    urlTemplate += `${urlTemplate.includes('?') ? '&' : '?'}messageId=${encodeURIComponent(id)}`;
  }
  const url = compileTemplate(urlTemplate).render(values, 'url');
  if (!cfg.body) return { url, method: 'GET' };
  const json = cfg.body.trimStart().startsWith('{');
  const body = compileTemplate(
    withMessageId(cfg.body, id, (s) => (json ? JSON.stringify(s).slice(1, -1) : encodeURIComponent(s))),
  ).render(values, json ? 'json' : 'url');
  return { url, method: 'POST', body };
}

/** Asks the provider for the state of a submitted message; network trouble reads as `pending`. */
export async function verifyOnce(
  cfg: VerifyConfig,
  e: SmsEvent,
  dispatcher?: Dispatcher,
): Promise<{ verdict: VerifyVerdict; answer: string }> {
  const req = buildVerifyRequest(cfg, e);
  try {
    const res = await request(req.url, {
      method: req.method,
      body: req.body,
      headers: req.body
        ? {
            'content-type': req.body.trimStart().startsWith('{')
              ? 'application/json'
              : 'application/x-www-form-urlencoded',
          }
        : {},
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      dispatcher,
    });
    const text = await res.body.text();
    return { verdict: classifyVerifyAnswer(res.statusCode, text), answer: text.slice(0, 500) };
  } catch (err) {
    return { verdict: 'pending', answer: `verify request failed: ${(err as Error).message}` };
  }
}
