/**
 * SMS code verification (`uauthverify`): sending a code to a number and checking it.
 *
 * Storage (Redis, under the queue prefix so a fleet's cleanup of `prefix:*` removes it):
 * - `P:uav:code:<number>` hash `salt`, `hash` (HMAC-SHA256 keyed by a fresh 16-byte salt over
 *   `<number>:<code>`), `exp` (epoch ms), `att` (checks so far), `max`, `uid` (requester). The key
 *   lives `CODE_GRACE_MS` past `exp`, so a late check answers "expired" rather than "no code".
 *   A new code for the same number replaces the old one (its attempts start again): the
 *   per-number send limit bounds how often that can happen.
 * - `P:uav:rl:<kind>:<id>` fixed one-hour counters (number, client address, user, checks per
 *   address), INCR + EXPIRE on the first hit, in one script.
 *
 * The code is short (a million values for 6 digits), so a stolen hash is brute-forced in no time
 * whatever the hash: the protection is the attempt limit per code and the rate limits, and the
 * hash only keeps codes out of plain sight (Redis dumps, MONITOR). HMAC with a per-code salt is
 * enough for that; scrypt would only cost CPU on every check.
 *
 * Each check reserves an attempt atomically before comparing, so parallel guesses cannot exceed
 * `max`; a right code is consumed with DEL, and only the caller whose DEL removed it wins.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConfigSnapshot } from '@smsfleet/config';
import {
  decideVerifyCheck,
  digitsFromRandom,
  normaliseTypedCode,
  overLimit,
  renderVerifyText,
  verifyCheckReason,
  type StoredVerifyCode,
} from '@smsfleet/core';
import { RegisteredNumbersRepo } from '@smsfleet/db';
import type { Redis } from '@smsfleet/queue';
import type { ApiContext } from '../api-context.js';
import type { Principal } from '../auth.js';
import { normaliseNumber } from '../numbers.js';
import { SendError, sendServiceFor } from '../send-service.js';

/** How long a code's record outlives its validity (to answer "expired"). */
export const CODE_GRACE_MS = 3_600_000;
const RATE_WINDOW_SECONDS = 3_600;

export type VerifyErrorCode =
  'DISABLED' | 'BAD_REQUEST' | 'MISSING_NUMBER' | 'RATE_LIMITED' | 'CODE' | 'NOT_ALLOWED' | SendError['code'];

/** A refused verification request; nothing was sent, no attempt counted unless said so. */
export class VerifyError extends Error {
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VerifyError';
  }
}

export interface VerifySendRequest {
  principal: Principal;
  number: string;
  clientIp: string;
  cfg: ConfigSnapshot;
}

export interface VerifySendResult {
  smsid: string;
  /** The number as normalised. */
  number: string;
  expiresAt: number;
  /** True when the requester was charged for the SMS. */
  charged: boolean;
}

export interface VerifyCheckRequest {
  principal: Principal;
  number: string;
  code: string;
  clientIp: string;
  /** Register the verified number for the principal's user (caller-id). */
  attach: boolean;
  cfg: ConfigSnapshot;
}

export interface VerifyCheckResult {
  number: string;
  /** The user the number was registered for, when attach was asked. */
  registeredFor?: number;
  /** 'added' or 'already-yours' when attached. */
  registration?: 'added' | 'already-yours';
}

/** KEYS: counters. ARGV[1] window seconds. Returns the counts after this hit. */
const COUNT_LUA = `
local out = {}
for i, k in ipairs(KEYS) do
  local n = redis.call('INCR', k)
  if n == 1 then redis.call('EXPIRE', k, tonumber(ARGV[1])) end
  out[i] = n
end
return out
`;

/**
 * KEYS[1] code hash. Reserves one attempt when any is left. Returns nil (no code) or
 * {salt, hash, exp, attemptsBefore, max}.
 */
const RESERVE_LUA = `
local h = redis.call('HMGET', KEYS[1], 'salt', 'hash', 'exp', 'att', 'max')
if not h[1] then return nil end
local att = tonumber(h[4])
if att < tonumber(h[5]) and tonumber(h[3]) > tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'att', 1)
end
return h
`;

type RedisWithVerify = Redis & {
  smsfleetVerifyCount(...args: (string | number)[]): Promise<number[]>;
  smsfleetVerifyReserve(key: string, now: number): Promise<string[] | null>;
};

function hashCode(salt: Buffer, number: string, code: string): Buffer {
  return createHmac('sha256', salt).update(`${number}:${code}`).digest();
}

/** A fresh code of `length` digits from the system's CSPRNG. */
export function newCode(length: number): string {
  for (;;) {
    const code = digitsFromRandom(randomBytes(length * 2), length);
    if (code !== undefined) return code;
  }
}

export class VerifyCodes {
  private readonly redis: RedisWithVerify;
  private readonly numbers: RegisteredNumbersRepo;

  constructor(
    private readonly ctx: ApiContext,
    private readonly prefix = ctx.infra.queuePrefix,
  ) {
    const r = ctx.redis as RedisWithVerify;
    if (typeof (r as Partial<RedisWithVerify>).smsfleetVerifyCount !== 'function')
      r.defineCommand('smsfleetVerifyCount', { lua: COUNT_LUA });
    if (typeof (r as Partial<RedisWithVerify>).smsfleetVerifyReserve !== 'function')
      r.defineCommand('smsfleetVerifyReserve', { numberOfKeys: 1, lua: RESERVE_LUA });
    this.redis = r;
    this.numbers = new RegisteredNumbersRepo(ctx.db);
  }

  codeKey(number: string): string {
    return `${this.prefix}:uav:code:${number}`;
  }

  private rateKey(kind: 'num' | 'ip' | 'user' | 'chk', id: string | number): string {
    return `${this.prefix}:uav:rl:${kind}:${id}`;
  }

  private static number(raw: string | undefined): string {
    if (raw === undefined || raw.trim() === '')
      throw new VerifyError('MISSING_NUMBER', 'missing number (bnum or to)');
    const n = normaliseNumber(raw);
    if (!n) throw new VerifyError('BAD_REQUEST', `invalid number: ${raw.slice(0, 32)}`);
    // One record per number however it was written (+36..., 36...).
    return n.replace(/^\+/, '');
  }

  private static enabled(cfg: ConfigSnapshot): void {
    if (!cfg.uauthverify)
      throw new VerifyError('DISABLED', 'SMS verification is disabled on this server (uauthverify=false)');
  }

  /** Counts one hit on each limit; throws RATE_LIMITED naming the first limit exceeded. */
  private async limit(checks: { key: string; max: number; what: string }[]): Promise<void> {
    const active = checks.filter((c) => c.max > 0);
    if (active.length === 0) return;
    const counts = await this.redis.smsfleetVerifyCount(
      active.length,
      ...active.map((c) => c.key),
      RATE_WINDOW_SECONDS,
    );
    active.forEach((c, i) => {
      if (overLimit(Number(counts[i]), { max: c.max, windowSeconds: RATE_WINDOW_SECONDS }))
        throw new VerifyError('RATE_LIMITED', `too many requests: ${c.what} (at most ${c.max} per hour)`);
    });
  }

  /** Sends a fresh code to `number` (replacing any pending one) and answers the SMS's smsid. */
  async send(req: VerifySendRequest): Promise<VerifySendResult> {
    const { cfg, principal } = req;
    VerifyCodes.enabled(cfg);
    const number = VerifyCodes.number(req.number);
    await this.limit([
      { key: this.rateKey('num', number), max: cfg.uauthverify_ratenumber, what: 'codes to this number' },
      {
        key: this.rateKey('ip', req.clientIp || 'unknown'),
        max: cfg.uauthverify_rateip,
        what: 'codes from this address',
      },
      ...(principal.userId > 0
        ? [
            {
              key: this.rateKey('user', principal.userId),
              max: cfg.uauthverify_rateuser,
              what: 'codes for this user',
            },
          ]
        : []),
    ]);

    const code = newCode(cfg.uauthverify_codelength);
    const salt = randomBytes(16);
    const ttlMs = cfg.uauthverify_ttl * 1000;
    const expiresAt = Date.now() + ttlMs;
    const key = this.codeKey(number);
    // Stored before sending, so a fast SMS can never be checked before its code exists.
    await this.redis
      .multi()
      .del(key)
      .hset(key, {
        salt: salt.toString('hex'),
        hash: hashCode(salt, number, code).toString('hex'),
        exp: expiresAt,
        att: 0,
        max: cfg.uauthverify_maxattempts,
        uid: principal.userId,
      })
      .pexpire(key, ttlMs + CODE_GRACE_MS)
      .exec();

    // End users pay only when the operator says so; otherwise the server sends it (uncharged,
    // CDR under user 0), as sign-up verification happens before the account is usable.
    const charged = cfg.uauthverify_charge && !principal.admin && principal.userId > 0;
    const sender: Principal = charged ? principal : { userId: 0, name: 'uauthverify', admin: true };
    try {
      const { messages } = await sendServiceFor(this.ctx).send({
        principal: sender,
        recipients: [number],
        text: renderVerifyText(cfg.uauthverify_text, code, cfg.uauthverify_ttl),
        from: cfg.uauthverify_from,
        clientIp: req.clientIp,
        cfg,
      });
      return { smsid: messages[0]!.smsid, number, expiresAt, charged };
    } catch (err) {
      // Not sent: the code must not linger (only if it is still ours).
      const current = await this.redis.hget(key, 'salt');
      if (current === salt.toString('hex')) await this.redis.del(key);
      if (err instanceof SendError) throw new VerifyError(err.code, err.message);
      throw err;
    }
  }

  /** Checks a code; on success consumes it and, when asked, registers the number for the user. */
  async check(req: VerifyCheckRequest): Promise<VerifyCheckResult> {
    const { cfg, principal } = req;
    VerifyCodes.enabled(cfg);
    const number = VerifyCodes.number(req.number);
    const code = normaliseTypedCode(req.code);
    if (code === undefined) throw new VerifyError('BAD_REQUEST', 'missing or invalid code (digits only)');
    if (req.attach) {
      if (principal.userId <= 0)
        throw new VerifyError('NOT_ALLOWED', 'attaching a number needs an authenticated user (authid)');
      if (cfg.anumberhandling === 0 || cfg.anumberhandling === 2)
        throw new VerifyError(
          'NOT_ALLOWED',
          `registering numbers is off (anumberhandling=${cfg.anumberhandling})`,
        );
    }
    await this.limit([
      {
        key: this.rateKey('chk', req.clientIp || 'unknown'),
        max: cfg.uauthverify_checkrateip,
        what: 'code checks from this address',
      },
    ]);

    const key = this.codeKey(number);
    const now = Date.now();
    const raw = await this.redis.smsfleetVerifyReserve(key, now);
    const stored: (StoredVerifyCode & { salt: string; hash: string }) | undefined = raw
      ? {
          salt: raw[0]!,
          hash: raw[1]!,
          expiresAt: Number(raw[2]),
          attempts: Number(raw[3]),
          maxAttempts: Number(raw[4]),
        }
      : undefined;
    const outcome = decideVerifyCheck(stored, now, () => {
      const want = Buffer.from(stored!.hash, 'hex');
      const got = hashCode(Buffer.from(stored!.salt, 'hex'), number, code);
      return want.length === got.length && timingSafeEqual(want, got);
    });
    if (outcome !== 'verified') {
      const left = stored ? Math.max(0, stored.maxAttempts - stored.attempts - 1) : undefined;
      throw new VerifyError('CODE', verifyCheckReason(outcome, left));
    }
    // Single use: of two right checks racing, only the one whose DEL removed the record wins.
    if ((await this.redis.del(key)) !== 1) throw new VerifyError('CODE', verifyCheckReason('none'));

    if (!req.attach) return { number };
    const r = await this.numbers.add(principal.userId, number);
    if (r === 'taken')
      throw new VerifyError('NOT_ALLOWED', 'number verified, but it is registered to another user');
    this.ctx.log.info({ userId: principal.userId, registration: r }, 'verified number registered');
    return { number, registeredFor: principal.userId, registration: r };
  }
}

const instances = new WeakMap<ApiContext, VerifyCodes>();

/** The process's VerifyCodes for this api-gateway context. */
export function verifyCodesFor(ctx: ApiContext): VerifyCodes {
  let v = instances.get(ctx);
  if (!v) {
    v = new VerifyCodes(ctx);
    instances.set(ctx, v);
  }
  return v;
}
