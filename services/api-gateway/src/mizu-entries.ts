import { asendsms, asendsmssync } from './entries/asendsms.js';
import { sendsms, sendsmssync, sms } from './entries/sendsms.js';
import { smsreceive } from './entries/smsreceive.js';
import { uauthverifycheck, uauthverifysend } from './entries/uauthverify.js';
import type { MizuEntry } from './mizu-types.js';

export type { MizuEntry, MizuRequest } from './mizu-types.js';

/**
 * The Mizu API entries by `apientry` name (lower case). A new entry is one module under entries/
 * and one line here.
 */
export const MIZU_ENTRIES: Record<string, MizuEntry> = {
  asendsms,
  asendsmssync,
  sendsms,
  sendsmssync,
  sms,
  smsreceive,
  uauthverifysend,
  uauthverifycheck,
};
