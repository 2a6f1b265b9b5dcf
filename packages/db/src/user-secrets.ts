import { hashSecret, lookupTag, sealPassword, secretKeyFromEnv, type SecretKey } from '@smsfleet/security';

let envKey: { key: SecretKey | undefined } | undefined;

/** `SMSFLEET_SECRET_KEY` from the environment, read once per process. */
export function serverSecretKey(): SecretKey | undefined {
  envKey ??= { key: secretKeyFromEnv() };
  return envKey.key;
}

/** The users columns for a new password: hash, sealed copy and lookup tag (the last two need a key). */
export async function passwordColumns(
  key: SecretKey | undefined,
  password: string,
): Promise<{ password_hash: string; password_sealed: string | null; password_tag: string | null }> {
  return {
    password_hash: await hashSecret(password),
    password_sealed: key && password !== '' ? sealPassword(key, password) : null,
    password_tag: key && password !== '' ? lookupTag(key, 'password', password) : null,
  };
}

/** The users columns for a new PIN: hash and lookup tag ('' removes the PIN). */
export async function pinColumns(
  key: SecretKey | undefined,
  pin: string,
): Promise<{ pin_hash: string; pin_tag: string | null }> {
  return { pin_hash: await hashSecret(pin), pin_tag: key && pin !== '' ? lookupTag(key, 'pin', pin) : null };
}
