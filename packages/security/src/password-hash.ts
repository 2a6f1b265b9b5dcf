import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password (and PIN, API key) hashing with scrypt from node:crypto, stored as a self-describing
 * PHC-style string:
 *
 *   $scrypt$ln=14,r=8,p=1$<salt, base64 no padding>$<hash, base64 no padding>
 *
 * `ln` is log2 of the cost N. The parameters travel with every hash, so raising the default later
 * keeps old hashes verifiable and `needsRehash` tells when one should be replaced. An empty stored
 * hash means "no secret set": nothing ever matches it.
 */
export interface ScryptParams {
  /** log2(N). */
  ln: number;
  r: number;
  p: number;
}

/** N = 2^14, r = 8, p = 1 (16 MiB, libsodium's "interactive" level; Django's default). */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ ln: 14, r: 8, p: 1 });

const KEY_LEN = 32;
const SALT_LEN = 16;
const PREFIX = '$scrypt$';
// Bounds a stored (or attacker-influenced) hash string may ask for: beyond them it is refused
// rather than allowed to burn CPU or memory.
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

function scryptAsync(secret: string, salt: Buffer, keyLen: number, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  const opts: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r * 2 + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Parses a stored hash; undefined when it is not one of ours or its parameters are out of bounds. */
export function parseHash(stored: string): ParsedHash | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const parts = stored.slice(PREFIX.length).split('$');
  if (parts.length !== 3) return undefined;
  const [paramText, saltText, hashText] = parts as [string, string, string];
  const m = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(paramText);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (
    params.ln < 1 ||
    params.ln > MAX_LN ||
    params.r < 1 ||
    params.r > MAX_R ||
    params.p < 1 ||
    params.p > MAX_P
  )
    return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { params, salt, hash };
}

/** Hashes a secret with a fresh random salt. The empty secret hashes to '' ("none set"). */
export async function hashSecret(secret: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (secret === '') return '';
  const salt = randomBytes(SALT_LEN);
  const hash = await scryptAsync(secret, salt, KEY_LEN, params);
  return `${PREFIX}ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Whether `secret` matches `stored` (constant-time comparison). False for the empty secret, an
 * empty or malformed stored value; never throws for bad input.
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (secret === '' || stored === '') return false;
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const got = await scryptAsync(secret, parsed.salt, parsed.hash.length, parsed.params);
  return got.length === parsed.hash.length && timingSafeEqual(got, parsed.hash);
}

/** True when `stored` was made with other parameters than `params` (or is not a valid hash). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  if (stored === '') return false;
  const parsed = parseHash(stored);
  if (!parsed) return true;
  return parsed.params.ln !== params.ln || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

/** Whether a value looks like a hash made by hashSecret (used by migrations and tests). */
export function isSecretHash(stored: string): boolean {
  return parseHash(stored) !== undefined;
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification for an unknown user, so the answer time does not reveal
 * which user names exist.
 */
export async function verifyDummy(secret: string): Promise<false> {
  dummy ??= hashSecret('smsfleet-dummy-password');
  await verifySecret(secret || 'x', await dummy);
  return false;
}
