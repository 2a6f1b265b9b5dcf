import type { Knex } from 'knex';
import { toCdr, type Cdr, type CdrRow } from './cdr-repo.js';

/** Filters of `smsfleet cdr list` and `GET /v1/cdrs`. */
export interface CdrSearch {
  userId?: number;
  gatewayId?: number;
  /** Final state (delivered, failed, unknown, ...). */
  state?: string;
  /** final_at >= since. */
  since?: Date;
  /** final_at < until. */
  until?: Date;
  /** Matches caller or callee: exact, or a prefix when it ends with `*`. */
  number?: string;
  /** Rows with id < beforeId (paging back, newest first). */
  beforeId?: number;
  /** Default 100, at most 100000. */
  limit?: number;
}

export interface CdrSearchRow extends Cdr {
  reserved: string | null;
  routeAttempt: number;
}

interface Row extends CdrRow {
  reserved: string | null;
  route_attempt: number;
}

const COLUMNS = [
  'id',
  'smsid',
  'type',
  'user_id',
  'gateway_id',
  'caller',
  'callee',
  'segments',
  'duration',
  'cost',
  'state',
  'disconnect_reason',
  'comment',
  'provider_msgid',
  'client_ip',
  'accepted_at',
  'submitted_at',
  'final_at',
  'created_at',
  'reserved',
  'route_attempt',
];

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** CDR search, newest first. */
export async function searchCdrs(db: Knex, q: CdrSearch): Promise<CdrSearchRow[]> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 100), 1), 100_000);
  const query = db('cdr').select(COLUMNS).orderBy('id', 'desc').limit(limit);
  if (q.userId !== undefined) query.where('user_id', q.userId);
  if (q.gatewayId !== undefined) query.where('gateway_id', q.gatewayId);
  if (q.state !== undefined) query.where('state', q.state);
  if (q.since !== undefined) query.where('final_at', '>=', q.since);
  if (q.until !== undefined) query.where('final_at', '<', q.until);
  if (q.beforeId !== undefined) query.where('id', '<', q.beforeId);
  if (q.number !== undefined) {
    const n = q.number;
    if (n.endsWith('*')) {
      const like = `${escapeLike(n.slice(0, -1))}%`;
      query.where((w) => void w.where('caller', 'like', like).orWhere('callee', 'like', like));
    } else {
      query.where((w) => void w.where('caller', n).orWhere('callee', n));
    }
  }
  const rows = (await query) as Row[];
  return rows.map((r) => ({ ...toCdr(r), reserved: r.reserved, routeAttempt: r.route_attempt }));
}

const CSV_HEADER = [
  'id',
  'type',
  'smsid',
  'user_id',
  'gateway_id',
  'caller',
  'callee',
  'segments',
  'duration',
  'cost',
  'state',
  'disconnect_reason',
  'comment',
  'client_ip',
  'accepted_at',
  'submitted_at',
  'final_at',
];

function csvField(v: string | number | Date | null | undefined): string {
  const s = v instanceof Date ? v.toISOString() : v === null || v === undefined ? '' : String(v);
  // RFC 4180 quoting; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV export of CDRs (header line first, CRLF line ends as RFC 4180). */
export function cdrsToCsv(rows: readonly CdrSearchRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows)
    lines.push(
      [
        r.id,
        r.type,
        r.smsid,
        r.userId,
        r.gatewayId,
        r.caller,
        r.callee,
        r.segments,
        r.duration,
        r.cost,
        r.state,
        r.disconnectReason,
        r.comment,
        r.clientIp,
        r.acceptedAt,
        r.submittedAt,
        r.finalAt,
      ]
        .map(csvField)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
