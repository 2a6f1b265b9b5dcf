import type { Knex } from 'knex';
import { DbError } from './errors.js';

/** One CDR of type SMS, written once per message when its final state is known. */
export interface CdrInsert {
  smsid: string;
  userId: number;
  /** tb_users.id of the SMS GW user; 0 = the global smsurl. */
  gatewayId: number;
  /** From number. */
  caller: string;
  /** To number. */
  callee: string;
  segments: number;
  /** Seconds (smstime when delivered, 0 when failed). */
  duration: number;
  /** Exact decimal string. */
  cost: string;
  state: string;
  disconnectReason: string;
  comment?: string | null;
  providerMsgid?: string | null;
  clientIp: string;
  acceptedAt: Date;
  submittedAt?: Date | null;
  finalAt: Date;
  /** Token of the billing transaction that inserts the row (migration 0402). */
  billingBatch?: string;
  /** Credit the API reserved at accept time (migration 0402). */
  reserved?: string | null;
  /** Gateways the message went through, 1 without failover (migration 0402). */
  routeAttempt?: number;
}

export interface Cdr {
  id: number;
  smsid: string;
  type: string;
  userId: number;
  gatewayId: number;
  caller: string;
  callee: string;
  segments: number;
  duration: number;
  cost: string;
  state: string;
  disconnectReason: string;
  comment: string | null;
  providerMsgid: string | null;
  clientIp: string;
  acceptedAt: Date;
  submittedAt: Date | null;
  finalAt: Date;
  createdAt: Date;
}

/** A `cdr` row as MariaDB returns it (shared with cdr-search.ts). */
export interface CdrRow {
  id: number | string;
  smsid: string;
  type: string;
  user_id: number;
  gateway_id: number;
  caller: string;
  callee: string;
  segments: number;
  duration: number;
  cost: string;
  state: string;
  disconnect_reason: string;
  comment: string | null;
  provider_msgid: string | null;
  client_ip: string;
  accepted_at: Date;
  submitted_at: Date | null;
  final_at: Date;
  created_at: Date;
}

export interface CdrListQuery {
  /** Default 100, at most 10000. */
  limit?: number;
  userId?: number;
  /** Only rows with id > afterId (follow new CDRs). */
  afterId?: number;
  /** Only rows with id < beforeId (page back through history). */
  beforeId?: number;
}

/** Rows per INSERT: 1000 x 16 columns stays far below the 65535 placeholders of one statement. */
export const CDR_INSERT_CHUNK = 1000;
const MAX_SMSID_LENGTH = 40;
// No spaces: PAD SPACE collations compare 'a' and 'a ' as equal.
const SMSID_RE = /^[\x21-\x7e]{1,40}$/;
const MAX_REASON_LENGTH = 255;

function toRow(c: CdrInsert): Record<string, unknown> {
  // INSERT IGNORE turns data errors into warnings (silent truncation) as well as duplicates, so
  // the key is checked here: a truncated smsid would defeat idempotence.
  if (!SMSID_RE.test(c.smsid)) {
    throw new DbError(
      'INVALID',
      `smsid must be 1..${MAX_SMSID_LENGTH} printable ASCII characters without spaces: ${JSON.stringify(c.smsid)}`,
    );
  }
  return {
    smsid: c.smsid,
    type: 'SMS',
    user_id: c.userId,
    gateway_id: c.gatewayId,
    caller: c.caller,
    callee: c.callee,
    segments: c.segments,
    duration: c.duration,
    cost: c.cost,
    state: c.state,
    // Provider texts can be long; cut them on purpose rather than rely on IGNORE's truncation.
    disconnect_reason: c.disconnectReason.slice(0, MAX_REASON_LENGTH),
    comment: c.comment ?? null,
    provider_msgid: c.providerMsgid ?? null,
    client_ip: c.clientIp,
    accepted_at: c.acceptedAt,
    submitted_at: c.submittedAt ?? null,
    final_at: c.finalAt,
    // Only when given: keeps rows of callers that do not know these columns unchanged.
    ...(c.billingBatch !== undefined ? { billing_batch: c.billingBatch } : {}),
    ...(c.reserved !== undefined ? { reserved: c.reserved } : {}),
    ...(c.routeAttempt !== undefined ? { route_attempt: c.routeAttempt } : {}),
  };
}

export function toCdr(r: CdrRow): Cdr {
  return {
    id: Number(r.id),
    smsid: r.smsid,
    type: r.type,
    userId: r.user_id,
    gatewayId: r.gateway_id,
    caller: r.caller,
    callee: r.callee,
    segments: r.segments,
    duration: r.duration,
    cost: r.cost,
    state: r.state,
    disconnectReason: r.disconnect_reason,
    comment: r.comment,
    providerMsgid: r.provider_msgid,
    clientIp: r.client_ip,
    acceptedAt: r.accepted_at,
    submittedAt: r.submitted_at,
    finalAt: r.final_at,
    createdAt: r.created_at,
  };
}

export class CdrRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Multi-row `INSERT IGNORE`, idempotent on smsid: rows whose smsid exists (in the table or
   * earlier in the same batch) are skipped. Returns the number of rows actually inserted.
   * Chunks of CDR_INSERT_CHUNK; with several chunks and no `trx`, they run in one transaction.
   */
  async insertBatch(rows: readonly CdrInsert[], trx?: Knex.Transaction): Promise<number> {
    if (rows.length === 0) return 0;
    const mapped = rows.map(toRow);
    const run = async (conn: Knex | Knex.Transaction): Promise<number> => {
      let affected = 0;
      for (let i = 0; i < mapped.length; i += CDR_INSERT_CHUNK) {
        const { sql, bindings } = conn('cdr')
          .insert(mapped.slice(i, i + CDR_INSERT_CHUNK))
          .onConflict('smsid')
          .ignore()
          .toSQL();
        // Through raw() to get mysql2's ResultSetHeader: knex's insert() only returns insertId.
        const [header] = (await conn.raw(sql, bindings as Knex.RawBinding[])) as [{ affectedRows: number }];
        affected += header.affectedRows;
      }
      return affected;
    };
    if (trx || mapped.length <= CDR_INSERT_CHUNK) return run(trx ?? this.db);
    return this.db.transaction(run);
  }

  /** Newest first. */
  async list(q: CdrListQuery = {}): Promise<Cdr[]> {
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? 100), 1), 10_000);
    const query = this.db('cdr').select('*').orderBy('id', 'desc').limit(limit);
    if (q.userId !== undefined) query.where('user_id', q.userId);
    if (q.afterId !== undefined) query.where('id', '>', q.afterId);
    if (q.beforeId !== undefined) query.where('id', '<', q.beforeId);
    return ((await query) as CdrRow[]).map(toCdr);
  }

  async count(): Promise<number> {
    const r = (await this.db('cdr').count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(r?.n ?? 0);
  }

  async findBySmsid(smsid: string): Promise<Cdr | undefined> {
    const r = (await this.db('cdr').select('*').where({ smsid }).first()) as CdrRow | undefined;
    return r && toCdr(r);
  }

  /** How many of these smsids already have a CDR (duplicates in the input count once). */
  async countBySmsids(smsids: readonly string[]): Promise<number> {
    const unique = [...new Set(smsids)];
    let n = 0;
    for (let i = 0; i < unique.length; i += CDR_INSERT_CHUNK) {
      const r = (await this.db('cdr')
        .whereIn('smsid', unique.slice(i, i + CDR_INSERT_CHUNK))
        .count({ n: '*' })
        .first()) as { n: number | string } | undefined;
      n += Number(r?.n ?? 0);
    }
    return n;
  }
}
