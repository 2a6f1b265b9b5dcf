import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The server secret (`SMSFLEET_SECRET_KEY`): one master key from which independent sub-keys are
 * derived (HKDF-SHA256) for
 * - sealing: an AES-256-GCM copy of a password, kept ONLY where a challenge-response protocol needs
 *   the cleartext on the server (Mizu `authmd5`, SIP digest authentication);
 * - lookup tags: HMAC-SHA256 of a secret, so a user can be found by a PIN or password alone (the
 *   SMS command modes of `callingcardauth`) without storing it in clear.
 *
 * Without a key nothing is sealed and no tag is written; everything else works.
 */
export const SECRET_KEY_ENV = 'SMSFLEET_SECRET_KEY';

export class SecretKey {
  /** @internal */ readonly sealKey: Buffer;
  /** @internal */ readonly tagKey: Buffer;

  private constructor(master: Buffer) {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, 'smsfleet', info, 32));
    this.sealKey = derive('seal-v1');
    this.tagKey = derive('tag-v1');
  }

  /**
   * From the text of `SMSFLEET_SECRET_KEY`: at least 32 characters (e.g. 64 hex digits or 43
   * base64url characters from `generateSecretKeyText()`); the text itself is the HKDF input.
   */
  static fromText(text: string): SecretKey {
    const t = text.trim();
    if (t.length < 32) throw new Error(`${SECRET_KEY_ENV} must be at least 32 characters`);
    return new SecretKey(Buffer.from(t, 'utf8'));
  }

  /** Never print the key. */
  toJSON(): string {
    return '[SecretKey]';
  }
}

/** A fresh random key text for `SMSFLEET_SECRET_KEY` (256 bits, base64url). */
export function generateSecretKeyText(): string {
  return randomBytes(32).toString('base64url');
}

/** The key from the environment; undefined when unset or empty. Throws when set but too short. */
export function secretKeyFromEnv(env: NodeJS.ProcessEnv = process.env): SecretKey | undefined {
  const v = env[SECRET_KEY_ENV];
  if (v === undefined || v.trim() === '') return undefined;
  return SecretKey.fromText(v);
}

const SEAL_VERSION = 'g1';
const AAD = Buffer.from('smsfleet-sealed-password-v1');

/** Seals a cleartext password: `g1.<iv>.<ciphertext+tag>` (base64url). The empty password seals to ''. */
export function sealPassword(key: SecretKey, plain: string): string {
  if (plain === '') return '';
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key.sealKey, iv);
  c.setAAD(AAD);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
  return `${SEAL_VERSION}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
}

/**
 * Opens a sealed password. Throws when it was sealed under another key or was tampered with;
 * '' for ''.
 */
export function openPassword(key: SecretKey, sealed: string): string {
  if (sealed === '') return '';
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== SEAL_VERSION) throw new Error('not a sealed password');
  const iv = Buffer.from(parts[1]!, 'base64url');
  const body = Buffer.from(parts[2]!, 'base64url');
  if (iv.length !== 12 || body.length < 16) throw new Error('not a sealed password');
  const d = createDecipheriv('aes-256-gcm', key.sealKey, iv);
  d.setAAD(AAD);
  d.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
  } catch (err) {
    throw new Error('sealed password does not open with this server key', { cause: err });
  }
}

export type TagKind = 'password' | 'pin';

/** Lookup tag of a secret (hex HMAC-SHA256 under the server key); '' for the empty secret. */
export function lookupTag(key: SecretKey, kind: TagKind, secret: string): string {
  if (secret === '') return '';
  return createHmac('sha256', key.tagKey)
    .update(`${kind}\0${secret.normalize('NFC')}`)
    .digest('hex');
}
