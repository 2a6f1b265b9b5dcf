import { createHash, timingSafeEqual } from 'node:crypto';
import type { User } from '@smsfleet/db';
import {
  openPassword,
  verifyDummy,
  type AuthSubject,
  type AuthVerdict,
  type SecretKey,
  type SecretVerifier,
} from '@smsfleet/security';
import type { ApiContext } from './api-context.js';
import { MizuError } from './mizu-answer.js';
import { param, type MizuParams } from './mizu-params.js';
import type { MizuRequest } from './mizu-types.js';

/** Who is sending: an authenticated user, or the server key holder (`authkey`). */
export interface Principal {
  userId: number;
  name: string;
  admin: boolean;
}

export interface AuthDeps {
  apiv2key: string;
  findUser(name: string): Promise<User | undefined>;
  /** Marks a salt as used; false when it was used before inside its window. */
  claimSalt(authid: string, salt: string): Promise<boolean>;
  /** Checks `authpwd` against the user's scrypt hash (successes cached briefly). */
  verifier: SecretVerifier;
  /** The server key that opens sealed passwords (`authmd5`); undefined: authmd5 is unavailable. */
  secretKey: SecretKey | undefined;
  /** The failed-authentication ban list; undefined: none (unit tests of other parts). */
  guard: AuthBan | undefined;
  /** The client's address, as the ban list counts it. */
  clientIp: string;
}

/** What authentication needs of the ban list (`AuthGuard` of @smsfleet/security). */
export interface AuthBan {
  admit(subject: AuthSubject): Promise<AuthVerdict>;
  fail(subject: AuthSubject): Promise<AuthVerdict>;
}

/** The dependencies of `authenticate` for a Mizu request. */
export function mizuAuthDeps(req: MizuRequest, ctx: ApiContext): AuthDeps {
  return {
    apiv2key: req.cfg.apiv2key,
    findUser: (n) => ctx.userCache.get(n),
    claimSalt: (a, s) => ctx.claimSalt(a, s),
    verifier: ctx.secrets.verifier,
    secretKey: ctx.secrets.key,
    guard: ctx.secrets.guard,
    clientIp: req.clientIp,
  };
}

const NO_KEY_MD5 =
  'authmd5 is not available: the server has no secret key (SMSFLEET_SECRET_KEY); use authpwd over HTTPS or authkey';
const NO_SEALED_MD5 =
  'authmd5 is not available for this user: the password was set while the server had no (or another) secret key; set it again';

/** The cleartext of a sealed password; undefined when there is none or it does not open with this key. */
function openSealed(key: SecretKey, sealed: string | null): string | undefined {
  if (!sealed) return undefined;
  try {
    return openPassword(key, sealed);
  } catch {
    return undefined;
  }
}

function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function md5Hex(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/**
 * Mizu authentication: `authkey` (the server's `apiv2key`), or `authid` with `authmd5` =
 * md5(`authid:password:authsalt`) and a fresh `authsalt`, or `authid` with `authpwd`.
 * Every failure reads the same to the caller, so user names cannot be probed.
 */
export async function authenticate(p: MizuParams, deps: AuthDeps): Promise<Principal> {
  const authkey = param(p, 'authkey');
  const authid = param(p, 'authid');
  const authmd5 = param(p, 'authmd5');
  const authsalt = param(p, 'authsalt');
  const authpwd = param(p, 'authpwd', 'password');

  // The ban list first: a banned address or user name is refused even with a right secret (and
  // slowed down while it keeps failing).
  const keyAttempt = authkey !== undefined && authkey !== '';
  const subject: AuthSubject = { address: deps.clientIp, user: keyAttempt ? undefined : authid || undefined };
  if (deps.guard) {
    const v = await deps.guard.admit(subject);
    if (v.banned) throw new MizuError('AUTH', v.reason);
  }
  const failed = async (reason = 'authentication failed'): Promise<never> => {
    let v: AuthVerdict | undefined;
    try {
      v = await deps.guard?.fail(subject);
    } catch {
      // Redis unreachable: the failure is still answered, only not counted.
    }
    throw new MizuError('AUTH', v?.banned ? v.reason : reason);
  };

  if (keyAttempt) {
    if (!deps.apiv2key || !sameSecret(authkey, deps.apiv2key)) return failed();
    // The key holder may act for a named user; that user is who the CDR is written for. With
    // `asuser=1` the key holder acts AS that user: the user's own rights (admin only if the user
    // is one), credit and CDR apply exactly as if the user had authenticated (the SIP front uses
    // this after its own digest authentication).
    if (authid) {
      const u = await deps.findUser(authid);
      if (!u) throw new MizuError('USER_NOT_FOUND', 'user not found');
      const asUser = param(p, 'asuser');
      if (asUser !== undefined && asUser !== '' && asUser !== '0') {
        if (asUser !== '1') throw new MizuError('BAD_REQUEST', 'asuser must be 0 or 1');
        if (!u.enabled) throw new MizuError('AUTH', 'user is disabled');
        return { userId: u.id, name: u.name, admin: u.type === 'admin' };
      }
      return { userId: u.id, name: u.name, admin: true };
    }
    return { userId: 0, name: 'apikey', admin: true };
  }
  if (!authid)
    throw new MizuError(
      'AUTH',
      'authentication required (authkey, authid+authmd5+authsalt or authid+authpwd)',
    );
  const user = await deps.findUser(authid);
  let ok = false;
  if (authmd5 !== undefined) {
    if (!authsalt) throw new MizuError('AUTH', 'authsalt is required with authmd5');
    if (!deps.secretKey) throw new MizuError('FAILED', NO_KEY_MD5);
    if (user) {
      const plain = openSealed(deps.secretKey, user.passwordSealed);
      if (plain === undefined) {
        if (user.passwordHash !== '') throw new MizuError('FAILED', NO_SEALED_MD5);
      } else ok = sameSecret(authmd5.toLowerCase(), md5Hex(`${authid}:${plain}:${authsalt}`));
    }
    // Claim the salt only for a correct hash, so a stranger cannot burn a user's salts.
    if (ok && !(await deps.claimSalt(authid, authsalt)))
      throw new MizuError('AUTH', 'authsalt was already used');
  } else if (authpwd !== undefined) {
    // Unknown users cost the same scrypt run, so timing does not tell which names exist.
    ok = user
      ? await deps.verifier.verify(`user:${user.id}`, authpwd, user.passwordHash)
      : await verifyDummy(authpwd);
  }
  if (!user || !ok) return failed();
  if (!user.enabled) throw new MizuError('AUTH', 'user is disabled');
  return { userId: user.id, name: user.name, admin: user.type === 'admin' };
}
