/**
 * Which SIP MESSAGE targets become SMS (`sendsmsmessages`): 0 none, 1 mobile numbers only (the
 * default), 2 every valid phone number (fixed lines too), 3 every destination (short codes and
 * ranges the numbering plan does not know; what the send API cannot take it refuses). "Mobile" is decided with libphonenumber-js
 * (full metadata), a default country for numbers dialled without an international prefix, and
 * extra prefixes an operator declares mobile (new ranges, MVNOs the metadata does not know yet).
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type SendSmsMessagesMode = 0 | 1 | 2 | 3;

export interface SipTargetOptions {
  mode: number;
  /** ISO 3166 alpha-2 code for numbers without +/00; empty: such numbers are not recognised. */
  defaultCountry: string;
  /** Digit prefixes (international form, no +) always taken as mobile. */
  mobilePrefixes: readonly string[];
}

export type SipTargetKind = 'mobile' | 'phone' | 'other';

export type SipTargetDecision =
  | { ok: true; kind: SipTargetKind; /** What to pass as the SMS target (`bnum`). */ number: string }
  | { ok: false; reason: string };

/** Visual separators people and phones put in dialled numbers. */
const SEPARATORS = /[\s\-.()/]/g;
const PHONE_RE = /^\+?\d{3,20}$/;

/** The user part as a dialled number (`+3620...`, `003620...`, `0620...`), or undefined. */
export function dialledNumber(userPart: string): string | undefined {
  const s = userPart.replace(SEPARATORS, '');
  return PHONE_RE.test(s) ? s : undefined;
}

/** Parses a comma-separated prefix list (`3620, +3630`) into digit prefixes. */
export function parseMobilePrefixes(list: string): string[] {
  return list
    .split(',')
    .map((p) => p.trim().replace(/^\+/, ''))
    .filter((p) => /^\d+$/.test(p));
}

/** The number in international digits (no +) when it can be known, else undefined. */
function internationalDigits(dialled: string, country: string): string | undefined {
  if (dialled.startsWith('+')) return dialled.slice(1);
  if (dialled.startsWith('00')) return dialled.slice(2);
  if (!country) return undefined;
  const p = parsePhoneNumberFromString(dialled, country.toUpperCase() as CountryCode);
  return p ? p.number.slice(1) : undefined;
}

/** What the numbering plan says about a dialled number. */
export function classifyNumber(
  dialled: string,
  opts: Omit<SipTargetOptions, 'mode'>,
): { valid: boolean; mobile: boolean } {
  const intl = internationalDigits(dialled, opts.defaultCountry);
  if (intl === undefined) return { valid: false, mobile: false };
  if (opts.mobilePrefixes.some((p) => p !== '' && intl.startsWith(p))) return { valid: true, mobile: true };
  const p = parsePhoneNumberFromString(`+${intl}`);
  if (!p || !p.isValid()) return { valid: false, mobile: false };
  const type = p.getType();
  // Where the plan does not tell mobile from fixed (US, CA...), SMS usually reaches the number.
  return { valid: true, mobile: type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE' };
}

/** True when the dialled number is a mobile number (libphonenumber-js, or an extra prefix). */
export function isMobileNumber(dialled: string, opts: Omit<SipTargetOptions, 'mode'>): boolean {
  return classifyNumber(dialled, opts).mobile;
}

/**
 * Decides whether a SIP MESSAGE to `userPart` (the Request-URI user part, already unescaped) is
 * sent as SMS under `sendsmsmessages`, and to which number.
 */
export function decideSipTarget(userPart: string, opts: SipTargetOptions): SipTargetDecision {
  const target = userPart.trim();
  if (opts.mode === 0)
    return { ok: false, reason: 'SIP messages are not converted to SMS (sendsmsmessages=0)' };
  if (target === '') return { ok: false, reason: 'no target in the Request-URI' };
  // The send API takes `,`/`;` as recipient separators: one SIP target is one recipient.
  if (/[,;]/.test(target)) return { ok: false, reason: `${target} is not a valid destination` };
  const dialled = dialledNumber(target);
  const c = dialled ? classifyNumber(dialled, opts) : { valid: false, mobile: false };
  // 3: every destination (short codes, unknown ranges...): the send path has the last word.
  if (opts.mode === 3)
    return { ok: true, kind: c.mobile ? 'mobile' : c.valid ? 'phone' : 'other', number: dialled ?? target };
  if (!dialled || !c.valid) return { ok: false, reason: `${target} is not a phone number` };
  if (c.mobile) return { ok: true, kind: 'mobile', number: dialled };
  if (opts.mode === 2) return { ok: true, kind: 'phone', number: dialled };
  return {
    ok: false,
    reason: `${target} is not a mobile number (sendsmsmessages=1 converts only to mobiles)`,
  };
}

/**
 * The Redis hash holding a SIP user's registered contacts (field: contact URI, value: JSON
 * binding). The SIP front writes it; inbound reads it to know whether a user can get chat by SIP.
 */
export function sipRegistrationKey(queuePrefix: string, userName: string): string {
  return `${queuePrefix}:sip:reg:${userName}`;
}
