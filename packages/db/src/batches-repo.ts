import type { Knex } from 'knex';

export type BatchState = 'queuing' | 'queued' | 'cancelled' | 'failed';

export interface Batch {
  id: string;
  userId: number;
  total: number;
  state: BatchState;
  reason: string;
  scheduledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface BatchRow {
  id: string;
  user_id: number;
  total: number;
  state: string;
  reason: string;
  scheduled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toBatch(r: BatchRow): Batch {
  return {
    id: r.id,
    userId: Number(r.user_id),
    total: Number(r.total),
    state: r.state as BatchState,
    reason: r.reason,
    scheduledAt: r.scheduled_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Bulk sends (/v1/batches): one row per batch, so any api-gateway replica can answer for it. */
export class BatchesRepo {
  constructor(private readonly db: Knex) {}

  async create(b: { id: string; userId: number; total: number; scheduledAt?: Date | null }): Promise<void> {
    await this.db('batches').insert({
      id: b.id,
      user_id: b.userId,
      total: b.total,
      state: 'queuing',
      scheduled_at: b.scheduledAt ?? null,
    });
  }

  async get(id: string): Promise<Batch | undefined> {
    const r = (await this.db('batches').select('*').where({ id }).first()) as BatchRow | undefined;
    return r && toBatch(r);
  }

  /**
   * Moves a batch to `to` only from one of `from` (a cancelled batch never becomes queued again).
   * Returns false when the batch was not in one of those states.
   */
  async transition(id: string, from: BatchState[], to: BatchState, reason = ''): Promise<boolean> {
    const n = await this.db('batches')
      .where({ id })
      .whereIn('state', from)
      .update({ state: to, reason: reason.slice(0, 255) });
    return n > 0;
  }

  /** Batches still in `state` that were created before `before` (oldest first). */
  async listStale(state: BatchState, before: Date, limit = 20): Promise<Batch[]> {
    const rows = (await this.db('batches')
      .select('*')
      .where({ state })
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)) as BatchRow[];
    return rows.map(toBatch);
  }

  async list(filter: { userId?: number; limit?: number } = {}): Promise<Batch[]> {
    const q = this.db('batches')
      .select('*')
      .orderBy('created_at', 'desc')
      .limit(Math.min(Math.max(filter.limit ?? 50, 1), 1000));
    if (filter.userId !== undefined) q.where({ user_id: filter.userId });
    return ((await q) as BatchRow[]).map(toBatch);
  }
}
