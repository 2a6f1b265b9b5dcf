import type { ApiContext } from '../api-context.js';
import { acceptInbound } from '../inbound/accept-inbound.js';
import { okAnswer, type MizuAnswer } from '../mizu-answer.js';
import type { MizuRequest } from '../mizu-types.js';

/**
 * `smsreceive`: an incoming SMS posted by a provider (GET or POST, form, query or JSON). Answers
 * `OK <id>` once the message is durable in the `mo` queue; the inbound service delivers it.
 */
export async function smsreceive(req: MizuRequest, ctx: ApiContext): Promise<MizuAnswer> {
  const mo = await acceptInbound(ctx, {
    params: req.params,
    query: queryText(req),
    body: req.rawBody,
    contentType: headerOf(req.headers['content-type']),
    clientIp: req.clientIp,
  });
  return okAnswer({ smsid: mo.id }, req.json);
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The query string for marker extraction. MizuRequest carries the parsed parameters and the raw
 * body but not the raw URL, so the query is re-encoded from the parameters when there is no body
 * (all of them came from the URL, in their order). With a body, markers search the body.
 */
function queryText(req: MizuRequest): string {
  if (req.rawBody !== '') return '';
  return new URLSearchParams([...req.params]).toString();
}
