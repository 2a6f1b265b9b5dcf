import type { Knex } from 'knex';
import { type SecretKey } from '@smsfleet/security';
import { passwordColumns, serverSecretKey } from './user-secrets.js';
import { DbError, isDuplicateKeyError } from './errors.js';

export type UserType = 'user' | 'admin' | 'smsgw';
export const USER_TYPES: readonly UserType[] = ['user', 'admin', 'smsgw'];

export interface User {
  id: number;
  name: string;
  /** scrypt hash (`$scrypt$...`); '' = no password set (nobody logs in with one). Never log it. */
  passwordHash: string;
  /**
   * The password sealed under the server key (AES-256-GCM), only for challenge-response protocols
   * that need the cleartext (Mizu `authmd5`, SIP digest): open it with `openPassword`. Null when
   * the server had no `SMSFLEET_SECRET_KEY` when the password was set. Never log it.
   */
  passwordSealed: string | null;
  type: UserType;
  enabled: boolean;
  smsAllowed: boolean;
  /** DECIMAL(18,6) as an exact string. */
  credit: string;
  creditLimit: string;
  /** For 'smsgw' users: the gateway URL. */
  smsurl: string | null;
  createdAt: Date;
}

export interface NewUser {
  name: string;
  /** Plain; hashed (and sealed when the server has a key) before it is stored. */
  password: string;
  type: UserType;
  credit?: string;
  creditLimit?: string;
  smsurl?: string | null;
  enabled?: boolean;
  smsAllowed?: boolean;
}

interface UserRow {
  id: number;
  name: string;
  password_hash: string;
  password_sealed: string | null;
  type: string;
  enabled: number;
  sms_allowed: number;
  credit: string;
  credit_limit: string;
  smsurl: string | null;
  created_at: Date;
}

const COLUMNS = [
  'id',
  'name',
  'password_hash',
  'password_sealed',
  'type',
  'enabled',
  'sms_allowed',
  'credit',
  'credit_limit',
  'smsurl',
  'created_at',
];

function toUser(r: UserRow): User {
  return {
    id: Number(r.id),
    name: r.name,
    passwordHash: r.password_hash,
    passwordSealed: r.password_sealed,
    type: r.type as UserType,
    enabled: Boolean(r.enabled),
    smsAllowed: Boolean(r.sms_allowed),
    credit: r.credit,
    creditLimit: r.credit_limit,
    smsurl: r.smsurl,
    createdAt: r.created_at,
  };
}

export class UsersRepo {
  private readonly key: SecretKey | undefined;

  /**
   * `secretKey`: the server key for sealed passwords and lookup tags; by default
   * `SMSFLEET_SECRET_KEY` from the environment (none: passwords are only hashed).
   */
  constructor(
    private readonly db: Knex,
    opts: { secretKey?: SecretKey | null } = {},
  ) {
    this.key = opts.secretKey === undefined ? serverSecretKey() : (opts.secretKey ?? undefined);
  }

  /** Throws DbError code 'DUPLICATE' when the name is taken. */
  async create(u: NewUser): Promise<User> {
    if (!USER_TYPES.includes(u.type)) throw new DbError('INVALID', `invalid user type: ${String(u.type)}`);
    let id: number;
    const secrets = await passwordColumns(this.key, u.password);
    try {
      const [insertId] = await this.db('users').insert({
        name: u.name,
        ...secrets,
        type: u.type,
        enabled: u.enabled ?? true,
        sms_allowed: u.smsAllowed ?? true,
        credit: u.credit ?? '0',
        credit_limit: u.creditLimit ?? '0',
        smsurl: u.smsurl ?? null,
      });
      id = Number(insertId);
    } catch (err) {
      if (isDuplicateKeyError(err))
        throw new DbError('DUPLICATE', `user ${u.name} already exists`, { cause: err });
      throw err;
    }
    const user = await this.findById(id);
    if (!user) throw new Error(`user ${id} vanished after insert`);
    return user;
  }

  async findById(id: number): Promise<User | undefined> {
    const r = (await this.db('users').select(COLUMNS).where({ id }).first()) as UserRow | undefined;
    return r && toUser(r);
  }

  async findByName(name: string): Promise<User | undefined> {
    const r = (await this.db('users').select(COLUMNS).where({ name }).first()) as UserRow | undefined;
    return r && toUser(r);
  }

  async list(filter: { type?: UserType } = {}): Promise<User[]> {
    const q = this.db('users').select(COLUMNS).orderBy('id');
    if (filter.type) q.where({ type: filter.type });
    return ((await q) as UserRow[]).map(toUser);
  }

  /** The 'SMS GW' users: one per outbound gateway (Mizu's tb_users entries of that type). */
  listGateways(): Promise<User[]> {
    return this.list({ type: 'smsgw' });
  }

  /**
   * Reserves credit for a whole send request in ONE statement: debits `total` only if the balance
   * stays at or above the user's `credit_limit`. InnoDB's row lock serialises concurrent requests
   * for the same user, so parallel requests can never spend the same credit. `bonus` (e.g. the
   * `smsadvvalue` credit for advertisements) is added in the same statement. Returns false (and
   * changes nothing) when the credit does not cover `total`. Decimal strings, never floats.
   */
  async reserveCredit(id: number, total: string, bonus = '0'): Promise<boolean> {
    // The casts matter: a quoted parameter in arithmetic is a DOUBLE to MariaDB, and 1.0 - '0.9'
    // >= 0.1 is false in floating point. DECIMAL(30,6) holds any DECIMAL(18,6) sum exactly.
    const n = await this.db('users')
      .where({ id })
      .andWhereRaw('credit - CAST(? AS DECIMAL(30,6)) >= credit_limit', [total])
      .update({
        credit: this.db.raw('credit - CAST(? AS DECIMAL(30,6)) + CAST(? AS DECIMAL(30,6))', [total, bonus]),
      });
    return n > 0;
  }

  /** Adds `amount` (may be negative) to the balance unconditionally: refunds and bonuses. */
  async addCredit(id: number, amount: string, trx?: Knex.Transaction): Promise<boolean> {
    const n = await (trx ?? this.db)('users')
      .where({ id })
      .update({ credit: this.db.raw('credit + CAST(? AS DECIMAL(30,6))', [amount]) });
    return n > 0;
  }

  /**
   * Sets a new password (hashed, sealed when the server has a key, tagged). '' removes it. Returns
   * false if no such user. Verification caches notice by themselves: their entries are keyed by the
   * stored hash.
   */
  async setPassword(id: number, password: string): Promise<boolean> {
    const n = await this.db('users')
      .where({ id })
      .update(await passwordColumns(this.key, password));
    return n > 0;
  }

  /** Enables or disables a user; `smsAllowed` is the right to send SMS. */
  async setFlags(id: number, flags: { enabled?: boolean; smsAllowed?: boolean }): Promise<boolean> {
    const patch: Record<string, boolean> = {};
    if (flags.enabled !== undefined) patch['enabled'] = flags.enabled;
    if (flags.smsAllowed !== undefined) patch['sms_allowed'] = flags.smsAllowed;
    if (Object.keys(patch).length === 0) return false;
    return (await this.db('users').where({ id }).update(patch)) > 0;
  }

  /** Sets the credit (exact decimal string). Returns false if no such user. */
  async setCredit(id: number, credit: string, trx?: Knex.Transaction): Promise<boolean> {
    const n = await (trx ?? this.db)('users').where({ id }).update({ credit });
    return n > 0;
  }
}
