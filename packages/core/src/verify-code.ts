/**
 * SMS code sign-up verification (`uauthverify`): the pure rules. The api-gateway supplies random
 * bytes, the clock and storage (Redis); everything decided about a code is decided here.
 */

/** Code lengths accepted by configuration (`smsverifycodelength`). */
export const VERIFY_CODE_MIN_LENGTH = 4;
export const VERIFY_CODE_MAX_LENGTH = 10;

/** Placeholders of the code text (`smsverifytext`). */
export const VERIFY_TEXT_CODE = '[code]';
export const VERIFY_TEXT_MINUTES = '[minutes]';

/**
 * Digits from random bytes without modulo bias: bytes of 250 and above are skipped (250 is the
 * largest multiple of 10 below 256). Undefined when the bytes ran out before `length` digits
 * (about 2 % of bytes are skipped: pass twice the length and retry with fresh bytes on undefined).
 */
export function digitsFromRandom(bytes: Uint8Array, length: number): string | undefined {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`invalid code length ${length}`);
  let out = '';
  for (const b of bytes) {
    if (b >= 250) continue;
    out += String(b % 10);
    if (out.length === length) return out;
  }
  return undefined;
}

/** A code as typed by a person: spaces and dashes removed; undefined unless only digits remain. */
export function normaliseTypedCode(raw: string): string | undefined {
  const v = raw.replace(/[\s-]/g, '');
  return /^\d{1,32}$/.test(v) ? v : undefined;
}

/**
 * The SMS text carrying a code: `[code]` is replaced by the code and `[minutes]` by the validity
 * in whole minutes (rounded up). A template without `[code]` gets the code appended after a space,
 * so a misconfigured text never sends an SMS without the code.
 */
export function renderVerifyText(template: string, code: string, ttlSeconds: number): string {
  const minutes = String(Math.max(1, Math.ceil(ttlSeconds / 60)));
  const base = template.trim() === '' ? `Your code: ${VERIFY_TEXT_CODE}` : template;
  const text = base.split(VERIFY_TEXT_MINUTES).join(minutes);
  return text.includes(VERIFY_TEXT_CODE) ? text.split(VERIFY_TEXT_CODE).join(code) : `${text} ${code}`;
}

/** What is stored for one pending code (the code itself only as a hash). */
export interface StoredVerifyCode {
  /** Epoch ms after which the code is no longer accepted. */
  expiresAt: number;
  /** Wrong guesses so far. */
  attempts: number;
  maxAttempts: number;
}

export type VerifyCheckOutcome =
  /** The code is right: consume it. */
  | 'verified'
  /** Wrong code, guesses left: count the attempt. */
  | 'wrong'
  /** Wrong code and this was the last allowed guess: the code is burnt. */
  | 'wrong-last'
  /** No code pending for this number (never sent, used, or deleted after its TTL). */
  | 'none'
  | 'expired'
  /** Guesses exhausted earlier: refused without comparing. */
  | 'too-many-attempts';

/**
 * The decision for one check. `matches` is only asked when the code is still usable, so a burnt or
 * expired code never reveals whether a guess was right.
 */
export function decideVerifyCheck(
  stored: StoredVerifyCode | undefined,
  now: number,
  matches: () => boolean,
): VerifyCheckOutcome {
  if (!stored) return 'none';
  if (now >= stored.expiresAt) return 'expired';
  if (stored.attempts >= stored.maxAttempts) return 'too-many-attempts';
  if (matches()) return 'verified';
  return stored.attempts + 1 >= stored.maxAttempts ? 'wrong-last' : 'wrong';
}

/** Human text for the refusals (the Mizu entry answers `ERROR <text>`). */
export function verifyCheckReason(o: Exclude<VerifyCheckOutcome, 'verified'>, left?: number): string {
  switch (o) {
    case 'wrong':
      return `wrong code${left !== undefined ? ` (${left} attempt${left === 1 ? '' : 's'} left)` : ''}`;
    case 'wrong-last':
      return 'wrong code (no attempts left, request a new code)';
    case 'none':
      return 'no verification code pending for this number (request one first)';
    case 'expired':
      return 'verification code expired (request a new code)';
    case 'too-many-attempts':
      return 'too many wrong attempts (request a new code)';
  }
}

/** A fixed-window limit: at most `max` events per `windowSeconds`. `max` 0 disables the limit. */
export interface WindowLimit {
  max: number;
  windowSeconds: number;
}

/**
 * Whether the count of events in the current window (after counting this one) is over the limit.
 * Pure helper for the Redis INCR+EXPIRE counters the api-gateway keeps.
 */
export function overLimit(countAfterThis: number, limit: WindowLimit): boolean {
  return limit.max > 0 && countAfterThis > limit.max;
}
