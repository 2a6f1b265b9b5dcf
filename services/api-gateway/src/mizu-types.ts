import type { ConfigSnapshot } from '@smsfleet/config';
import type { ApiContext } from './api-context.js';
import type { MizuAnswer } from './mizu-answer.js';
import type { MizuParams } from './mizu-params.js';

export interface MizuRequest {
  params: MizuParams;
  clientIp: string;
  cfg: ConfigSnapshot;
  /** `format=json` asked for a JSON answer. */
  json: boolean;
  /** Raw body and headers, for inbound providers that need them. */
  rawBody: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One Mizu API entry: answers OK, or throws a MizuError (mapped to ERROR by the route). */
export type MizuEntry = (req: MizuRequest, ctx: ApiContext) => Promise<MizuAnswer>;
