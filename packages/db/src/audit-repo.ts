import type { Knex } from 'knex';
import { redactSecrets } from '@smsfleet/core';

export const AUDIT_SOURCES = ['web', 'api', 'cli', 'sms'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

export interface AuditInsert {
  /** User name, or `cli:<os user>` for the command line. */
  actor: string;
  actorId?: number | null;
  source: AuditSource;
  /** Dotted verb: `config.set`, `user.credit`, `gateway.pause`, `apikey.create`, ... */
  action: string;
  /** What was acted on: a config key, `user:7`, `gateway:3`, `route:12`. */
  target?: string;
  /** Anything useful to an auditor; secret fields and URL credentials are masked before storing. */
  details?: Record<string, unknown>;
  remoteAddr?: string | null;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  actorId: number | null;
  source: AuditSource;
  action: string;
  target: string;
  details: Record<string, unknown>;
  remoteAddr: string | null;
}

interface AuditRow {
  id: number | string;
  at: Date;
  actor: string;
  actor_id: number | null;
  source: string;
  action: string;
  target: string;
  details: string;
  remote_addr: string | null;
}

function toEntry(r: AuditRow): AuditEntry {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    details = { raw: r.details };
  }
  return {
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    actorId: r.actor_id === null ? null : Number(r.actor_id),
    source: r.source as AuditSource,
    action: r.action,
    target: r.target,
    details,
    remoteAddr: r.remote_addr,
  };
}

/** The audit log of admin actions (table `audit_log`, migration 0820). */
export class AuditRepo {
  constructor(private readonly db: Knex) {}

  /** Appends one entry (inside `trx` when given, so it commits or rolls back with the change). */
  async record(e: AuditInsert, trx?: Knex.Transaction): Promise<number> {
    const details = JSON.stringify(redactSecrets(e.details ?? {}));
    const [id] = await (trx ?? this.db)('audit_log').insert({
      actor: e.actor.slice(0, 128),
      actor_id: e.actorId ?? null,
      source: e.source,
      action: e.action.slice(0, 64),
      target: (e.target ?? '').slice(0, 255),
      details,
      remote_addr: e.remoteAddr ? e.remoteAddr.slice(0, 64) : null,
    });
    return Number(id);
  }

  /** Newest first. */
  async list(
    q: { limit?: number; action?: string; actor?: string; beforeId?: number } = {},
  ): Promise<AuditEntry[]> {
    const query = this.db<AuditRow>('audit_log')
      .select('*')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(q.limit ?? 50, 1), 10_000));
    if (q.action) {
      if (q.action.endsWith('.*')) query.where('action', 'like', `${q.action.slice(0, -1)}%`);
      else query.where('action', q.action);
    }
    if (q.actor) query.where('actor', q.actor);
    if (q.beforeId !== undefined) query.where('id', '<', q.beforeId);
    return (await query).map(toEntry);
  }
}
