import { createHash, timingSafeEqual } from 'node:crypto';
import type { User } from '@smsfleet/db';
import { MizuError } from './mizu-answer.js';
import { param, type MizuParams } from './mizu-params.js';

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

  if (authkey !== undefined && authkey !== '') {
    if (!deps.apiv2key || !sameSecret(authkey, deps.apiv2key))
      throw new MizuError('AUTH', 'authentication failed');
    // The key holder may act for a named user; that user is who the CDR is written for.
    if (authid) {
      const u = await deps.findUser(authid);
      if (!u) throw new MizuError('USER_NOT_FOUND', 'user not found');
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
  if (user && authmd5 !== undefined) {
    if (!authsalt) throw new MizuError('AUTH', 'authsalt is required with authmd5');
    ok = sameSecret(authmd5.toLowerCase(), md5Hex(`${authid}:${user.password}:${authsalt}`));
    // Claim the salt only for a correct hash, so a stranger cannot burn a user's salts.
    if (ok && !(await deps.claimSalt(authid, authsalt)))
      throw new MizuError('AUTH', 'authsalt was already used');
  } else if (user && authpwd !== undefined) {
    ok = sameSecret(authpwd, user.password);
  }
  if (!user || !ok) throw new MizuError('AUTH', 'authentication failed');
  if (!user.enabled) throw new MizuError('AUTH', 'user is disabled');
  return { userId: user.id, name: user.name, admin: user.type === 'admin' };
}
