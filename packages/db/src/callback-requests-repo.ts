import type { Knex } from 'knex';

export interface CallbackRequestInsert {
  moId: string;
  kind: 'callback' | 'p2p';
  userId: number;
  number1: string;
  number2?: string;
  ivr: string;
}

export interface CallbackRequest extends Required<CallbackRequestInsert> {
  id: number;
  state: string;
  createdAt: Date;
}

interface Row {
  id: number | string;
  mo_id: string;
  kind: 'callback' | 'p2p';
  user_id: number;
  number1: string;
  number2: string;
  ivr: string;
  state: string;
  created_at: Date;
}

/** Callback and phone-to-phone requests from SMS commands, for a VoIP switch to act on. */
export class CallbackRequestsRepo {
  constructor(private readonly db: Knex) {}

  /** Stores the request once per SMS (unique mo id) and returns the stored row. */
  async insertOnce(r: CallbackRequestInsert): Promise<CallbackRequest> {
    await this.db('callback_requests')
      .insert({
        mo_id: r.moId,
        kind: r.kind,
        user_id: r.userId,
        number1: r.number1,
        number2: r.number2 ?? '',
        ivr: r.ivr.slice(0, 128),
      })
      .onConflict('mo_id')
      .ignore();
    const row = (await this.db('callback_requests').where({ mo_id: r.moId }).first()) as Row;
    return toRequest(row);
  }

  async list(opts: { userId?: number; limit?: number } = {}): Promise<CallbackRequest[]> {
    const q = this.db('callback_requests')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 100);
    if (opts.userId !== undefined) q.where({ user_id: opts.userId });
    return ((await q) as Row[]).map(toRequest);
  }
}

function toRequest(r: Row): CallbackRequest {
  return {
    id: Number(r.id),
    moId: r.mo_id,
    kind: r.kind,
    userId: r.user_id,
    number1: r.number1,
    number2: r.number2,
    ivr: r.ivr,
    state: r.state,
    createdAt: r.created_at,
  };
}
