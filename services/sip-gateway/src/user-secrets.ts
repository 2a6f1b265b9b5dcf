/**
 * Where SIP digest authentication gets a user's password. Digest needs the cleartext on the
 * server, so it opens the user's sealed copy (packages/security `openPassword`, AES-GCM under
 * `SMSFLEET_SECRET_KEY`). Without a server key, or for a user whose password was set while the
 * server had none, there is nothing to open and the user cannot authenticate over SIP.
 */
import type { UsersRepo } from '@smsfleet/db';
import { openPassword, type SecretKey } from '@smsfleet/security';
import type { SipUserSecret } from './handler.js';

export function userSecretLookup(
  users: Pick<UsersRepo, 'findByName'>,
  key: SecretKey | undefined,
  onUnavailable: (user: string, why: string) => void,
) {
  return async (name: string): Promise<SipUserSecret | undefined> => {
    const u = await users.findByName(name);
    // Gateway pseudo-users ('smsgw') have no SIP identity.
    if (!u || u.type === 'smsgw') return undefined;
    if (!key || !u.passwordSealed) {
      onUnavailable(
        name,
        key ? 'no sealed password (set it again with the server key)' : 'no SMSFLEET_SECRET_KEY',
      );
      return undefined;
    }
    let password: string;
    try {
      password = openPassword(key, u.passwordSealed);
    } catch (err) {
      onUnavailable(name, (err as Error).message);
      return undefined;
    }
    if (password === '') return undefined;
    return { name: u.name, password, enabled: u.enabled };
  };
}
