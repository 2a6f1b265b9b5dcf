import type { Knex } from 'knex';
import { lookupTag, type SecretKey } from '@smsfleet/security';
import { isDuplicateKeyError } from './errors.js';
import { pinColumns, serverSecretKey } from './user-secrets.js';

/** Numbers are stored as digits only, so `+3611` and `3611` are the same number. */
export function numberKey(n: string): string {
  return n.replace(/[^\d]/g, '');
}

/** A user as inbound delivery and SMS commands need it. */
export interface InboundUser {
  id: number;
  name: string;
  /** scrypt hash of the password ('' = none). Never log it. */
  passwordHash: string;
  /** scrypt hash of the pincode ('' = the user has no pincode). Never log it. */
  pinHash: string;
  email: string;
  /** SIP URI or webhook URL for chat messages; empty: none. */
  chatEndpoint: string;
  type: string;
  enabled: boolean;
}

interface Row {
  id: number;
  name: string;
  password_hash: string;
  pin_hash: string;
  email: string;
  chat_endpoint: string;
  type: string;
  enabled: number;
}

const COLUMNS = [
  'users.id',
  'users.name',
  'users.password_hash',
  'users.pin_hash',
  'users.email',
  'users.chat_endpoint',
  'users.type',
  'users.enabled',
];

function toUser(r: Row): InboundUser {
  return {
    id: Number(r.id),
    name: r.name,
    passwordHash: r.password_hash,
    pinHash: r.pin_hash,
    email: r.email,
    chatEndpoint: r.chat_endpoint,
    type: r.type,
    enabled: Boolean(r.enabled),
  };
}

export type RegisterResult = 'added' | 'already-yours' | 'taken';

/**
 * The users' phone numbers: the target user of an inbound SMS is found by the number it was sent
 * to, caller-id authentication by the sender's number, and the `n` command adds one.
 */
export class RegisteredNumbersRepo {
  private readonly key: SecretKey | undefined;

  /** `secretKey`: for PIN/password lookup tags; by default `SMSFLEET_SECRET_KEY` from the environment. */
  constructor(
    private readonly db: Knex,
    opts: { secretKey?: SecretKey | null } = {},
  ) {
    this.key = opts.secretKey === undefined ? serverSecretKey() : (opts.secretKey ?? undefined);
  }

  async add(userId: number, number: string): Promise<RegisterResult> {
    const key = numberKey(number);
    try {
      await this.db('registered_numbers').insert({ user_id: userId, number: key });
      return 'added';
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const owner = (await this.db('registered_numbers').select('user_id').where({ number: key }).first()) as
        { user_id: number } | undefined;
      return owner?.user_id === userId ? 'already-yours' : 'taken';
    }
  }

  async remove(number: string): Promise<boolean> {
    return (
      (await this.db('registered_numbers')
        .where({ number: numberKey(number) })
        .delete()) > 0
    );
  }

  async listForUser(userId: number): Promise<string[]> {
    const rows = (await this.db('registered_numbers').where({ user_id: userId }).orderBy('id')) as {
      number: string;
    }[];
    return rows.map((r) => r.number);
  }

  /** The owners of these numbers (one query for a whole batch), by the number as given. */
  async usersByNumbers(numbers: readonly string[]): Promise<Map<string, InboundUser>> {
    const out = new Map<string, InboundUser>();
    const keys = [...new Set(numbers.map(numberKey).filter((k) => k !== ''))];
    if (keys.length === 0) return out;
    const rows = (await this.db('registered_numbers')
      .select([...COLUMNS, 'registered_numbers.number as reg_number'])
      .join('users', 'users.id', 'registered_numbers.user_id')
      .whereIn('registered_numbers.number', keys)) as (Row & { reg_number: string })[];
    const byKey = new Map(rows.map((r) => [r.reg_number, toUser(r)]));
    for (const n of numbers) {
      const u = byKey.get(numberKey(n));
      if (u) out.set(n, u);
    }
    return out;
  }

  async userById(id: number): Promise<InboundUser | undefined> {
    const r = (await this.db('users').select(COLUMNS).where({ id }).first()) as Row | undefined;
    return r && toUser(r);
  }

  async userByName(name: string): Promise<InboundUser | undefined> {
    const r = (await this.db('users').select(COLUMNS).where({ name }).first()) as Row | undefined;
    return r && toUser(r);
  }

  /**
   * Users a pincode token could stand for: its pin, its name, its password, or its name as the
   * start of the token (name+password, name+pin typed together). Which of these count is
   * `callingcardauth`'s business (core `pinChecks`); this only narrows the candidates. PINs and
   * passwords are found by their lookup tags, so a PIN or password alone finds its user only when
   * the server has a secret key (`SMSFLEET_SECRET_KEY`).
   */
  async pinCandidates(token: string): Promise<InboundUser[]> {
    if (token === '') return [];
    const q = this.db('users').select(COLUMNS).where('name', token);
    if (this.key) {
      q.orWhere('pin_tag', lookupTag(this.key, 'pin', token));
      q.orWhere('password_tag', lookupTag(this.key, 'password', token));
    }
    const rows = (await q
      .orWhereRaw('CHAR_LENGTH(name) < CHAR_LENGTH(?) AND LEFT(?, CHAR_LENGTH(name)) = name', [token, token])
      .orderBy('id')
      .limit(50)) as Row[];
    return rows.map(toUser);
  }

  async setContact(
    userId: number,
    contact: { email?: string; pin?: string; chatEndpoint?: string },
  ): Promise<boolean> {
    const upd: Record<string, string | null> = {};
    if (contact.email !== undefined) upd['email'] = contact.email;
    if (contact.pin !== undefined) Object.assign(upd, await pinColumns(this.key, contact.pin));
    if (contact.chatEndpoint !== undefined) upd['chat_endpoint'] = contact.chatEndpoint;
    if (Object.keys(upd).length === 0) return true;
    return (await this.db('users').where({ id: userId }).update(upd)) > 0;
  }
}
