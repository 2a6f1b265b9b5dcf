import type { Knex } from 'knex';
import { DbError, isDuplicateKeyError } from './errors.js';

export type UserType = 'user' | 'admin' | 'smsgw';
export const USER_TYPES: readonly UserType[] = ['user', 'admin', 'smsgw'];

export interface User {
  id: number;
  name: string;
  /** Plain text: Mizu's authmd5 needs it server-side. Never log it. */
  password: string;
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
  password: string;
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
  'password',
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
    password: r.password,
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
  constructor(private readonly db: Knex) {}

  /** Throws DbError code 'DUPLICATE' when the name is taken. */
  async create(u: NewUser): Promise<User> {
    if (!USER_TYPES.includes(u.type)) throw new DbError('INVALID', `invalid user type: ${String(u.type)}`);
    let id: number;
    try {
      const [insertId] = await this.db('users').insert({
        name: u.name,
        password: u.password,
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
