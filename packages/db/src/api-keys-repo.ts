import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { hashSecret, verifySecret } from '@smsfleet/security';

/** Bearer tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'sfk_';

export interface ApiKey {
  id: number;
  userId: number;
  /** The token's first characters (never the whole token). */
  tokenPrefix: string;
  label: string;
  enabled: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: number;
  user_id: number;
  token_prefix: string;
  label: string;
  enabled: number;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = ['id', 'user_id', 'token_prefix', 'label', 'enabled', 'created_at', 'revoked_at'];

function toApiKey(r: ApiKeyRow): ApiKey {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    tokenPrefix: r.token_prefix,
    label: r.label,
    enabled: Boolean(r.enabled),
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

/**
 * sha256 (hex) of a token: the input of the stored scrypt hash (so rows made before tokens were
 * scrypt-hashed could be converted), and a safe in-memory cache key (the token has 256 random bits).
 */
export function hashApiKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A token for key `id`: `sfk_<id>.<43 base64url characters>` (the id makes the check O(1)). */
export function generateApiKeyToken(id: number): string {
  return `${API_KEY_PREFIX}${id}.${randomBytes(32).toString('base64url')}`;
}

/** The key id a token names; undefined for tokens of the old form (`sfk_<base64url>`, no dot). */
export function apiKeyIdOf(token: string): number | undefined {
  const m = /^sfk_(\d{1,10})\.[A-Za-z0-9_-]{20,100}$/.exec(token);
  return m ? Number(m[1]) : undefined;
}

type Verify = (subject: string, secret: string, stored: string) => Promise<boolean>;

export class ApiKeysRepo {
  constructor(private readonly db: Knex) {}

  /** Creates a key; the returned token is the only time it exists outside the caller. */
  async create(userId: number, label = ''): Promise<{ key: ApiKey; token: string }> {
    const { token, id } = await this.db.transaction(async (trx) => {
      const [insertId] = await trx('api_keys').insert({
        user_id: userId,
        token_prefix: '',
        label: label.slice(0, 64),
      });
      const newId = Number(insertId);
      const t = generateApiKeyToken(newId);
      await trx('api_keys')
        .where({ id: newId })
        .update({ secret_hash: await hashSecret(hashApiKey(t)), token_prefix: t.slice(0, 16) });
      return { token: t, id: newId };
    });
    const key = await this.findById(id);
    if (!key) throw new Error(`api key ${String(id)} vanished after insert`);
    return { key, token };
  }

  async findById(id: number): Promise<ApiKey | undefined> {
    const r = (await this.db('api_keys').select(COLUMNS).where({ id }).first()) as ApiKeyRow | undefined;
    return r && toApiKey(r);
  }

  /**
   * The enabled key this token belongs to, if any: one row by the id in the token (old tokens: the
   * rows with the same first characters), its scrypt hash checked with `verify` (e.g. a cached
   * SecretVerifier's `verify`; plain scrypt by default).
   */
  async findByToken(token: string, verify?: Verify): Promise<ApiKey | undefined> {
    if (!token.startsWith(API_KEY_PREFIX) || token.length > 200) return undefined;
    const check: Verify = verify ?? ((_s, secret, stored) => verifySecret(secret, stored));
    const id = apiKeyIdOf(token);
    const q = this.db('api_keys')
      .select([...COLUMNS, 'secret_hash'])
      .where({ enabled: true });
    if (id !== undefined) q.andWhere({ id });
    else if (token.includes('.')) return undefined;
    else q.andWhere({ token_prefix: token.slice(0, API_KEY_PREFIX.length + 6) }).limit(8);
    const rows = (await q) as (ApiKeyRow & { secret_hash: string })[];
    const digest = hashApiKey(token);
    for (const r of rows) if (await check(`apikey:${r.id}`, digest, r.secret_hash)) return toApiKey(r);
    return undefined;
  }
  async list(filter: { userId?: number } = {}): Promise<ApiKey[]> {
    const q = this.db('api_keys').select(COLUMNS).orderBy('id');
    if (filter.userId !== undefined) q.where({ user_id: filter.userId });
    return ((await q) as ApiKeyRow[]).map(toApiKey);
  }

  /** Disables a key (kept for the record). False when no enabled key has this id. */
  async revoke(id: number): Promise<boolean> {
    const n = await this.db('api_keys')
      .where({ id, enabled: true })
      .update({ enabled: false, revoked_at: this.db.raw('CURRENT_TIMESTAMP(3)') });
    return n > 0;
  }
}
