import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

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
 * sha256 of the token. The token carries 256 random bits, so a plain fast hash is enough: a slow
 * password hash protects low-entropy secrets and would cost the hot path for nothing.
 */
export function hashApiKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateApiKeyToken(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export class ApiKeysRepo {
  constructor(private readonly db: Knex) {}

  /** Creates a key; the returned token is the only time it exists outside the caller. */
  async create(userId: number, label = ''): Promise<{ key: ApiKey; token: string }> {
    const token = generateApiKeyToken();
    const [id] = await this.db('api_keys').insert({
      user_id: userId,
      token_hash: hashApiKey(token),
      token_prefix: token.slice(0, API_KEY_PREFIX.length + 6),
      label: label.slice(0, 64),
    });
    const key = await this.findById(Number(id));
    if (!key) throw new Error(`api key ${String(id)} vanished after insert`);
    return { key, token };
  }

  async findById(id: number): Promise<ApiKey | undefined> {
    const r = (await this.db('api_keys').select(COLUMNS).where({ id }).first()) as ApiKeyRow | undefined;
    return r && toApiKey(r);
  }

  /** The enabled key with this token, if any. */
  findByToken(token: string): Promise<ApiKey | undefined> {
    return this.findByHash(hashApiKey(token));
  }

  /** The enabled key with this token hash (see hashApiKey), if any. */
  async findByHash(tokenHash: string): Promise<ApiKey | undefined> {
    const r = (await this.db('api_keys')
      .select(COLUMNS)
      .where({ token_hash: tokenHash, enabled: true })
      .first()) as ApiKeyRow | undefined;
    return r && toApiKey(r);
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
