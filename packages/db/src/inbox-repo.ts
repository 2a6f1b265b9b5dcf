import type { Knex } from 'knex';

export type EmailState = 'none' | 'pending' | 'sent' | 'failed';

/** Chat delivery by SIP MESSAGE: reached the contact, gave up, or nobody registered. */
export type SipChatState = 'delivered' | 'failed' | 'no-contact';

/** One inbound message as stored: in the user's inbox when `chat`, else kept for the record. */
export interface InboxMessage {
  id: number;
  moId: string;
  userId: number;
  from: string;
  to: string;
  text: string;
  parts: number;
  source: string;
  gatewayId: number;
  chat: boolean;
  emailState: EmailState;
  emailAttempts: number;
  emailError: string;
  command: string;
  receivedAt: Date;
}

export interface InboxInsert {
  moId: string;
  userId: number;
  from: string;
  to: string;
  text: string;
  parts: number;
  source: string;
  gatewayId: number;
  chat: boolean;
  emailState: EmailState;
  command?: string;
  receivedAt: Date;
}

interface InboxRow {
  id: number | string;
  mo_id: string;
  user_id: number;
  from_number: string;
  to_number: string;
  text: string;
  parts: number;
  source: string;
  gateway_id: number;
  chat: number;
  email_state: string;
  email_attempts: number;
  email_error: string;
  command: string;
  received_at: Date;
}

function toMessage(r: InboxRow): InboxMessage {
  return {
    id: Number(r.id),
    moId: r.mo_id,
    userId: r.user_id,
    from: r.from_number,
    to: r.to_number,
    text: r.text,
    parts: r.parts,
    source: r.source,
    gatewayId: r.gateway_id,
    chat: Boolean(r.chat),
    emailState: r.email_state as EmailState,
    emailAttempts: r.email_attempts,
    emailError: r.email_error,
    command: r.command,
    receivedAt: r.received_at,
  };
}

/** The inbound message box (portal, GET /v1/inbox, `smsfleet inbox list`). */
export class InboxRepo {
  constructor(private readonly db: Knex) {}

  /** Multi-row `INSERT IGNORE` on the unique mo id: a redelivered message inserts nothing. */
  async insertIgnore(rows: readonly InboxInsert[], trx?: Knex.Transaction): Promise<void> {
    if (rows.length === 0) return;
    await (trx ?? this.db)('inbox')
      .insert(
        rows.map((m) => ({
          mo_id: m.moId,
          user_id: m.userId,
          from_number: m.from.slice(0, 64),
          to_number: m.to.slice(0, 64),
          text: m.text,
          parts: m.parts,
          source: m.source,
          gateway_id: m.gatewayId,
          chat: m.chat,
          email_state: m.emailState,
          command: m.command ?? '',
          received_at: m.receivedAt,
        })),
      )
      .onConflict('mo_id')
      .ignore();
  }

  async findByMoIds(moIds: readonly string[]): Promise<Map<string, InboxMessage>> {
    const out = new Map<string, InboxMessage>();
    if (moIds.length === 0) return out;
    const rows = (await this.db('inbox').whereIn('mo_id', [...moIds])) as InboxRow[];
    for (const r of rows) out.set(r.mo_id, toMessage(r));
    return out;
  }

  /** Messages in a user's inbox (chat deliveries), newest first; `beforeId` pages back. */
  async listForUser(
    userId: number,
    opts: { limit?: number; beforeId?: number } = {},
  ): Promise<InboxMessage[]> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
    const q = this.db('inbox').where({ user_id: userId, chat: true }).orderBy('id', 'desc').limit(limit);
    if (opts.beforeId !== undefined) q.andWhere('id', '<', opts.beforeId);
    return ((await q) as InboxRow[]).map(toMessage);
  }

  /** Every stored inbound message, newest first (operators: `smsfleet inbox list`). */
  async listAll(opts: { limit?: number; userId?: number } = {}): Promise<InboxMessage[]> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 10_000);
    const q = this.db('inbox').orderBy('id', 'desc').limit(limit);
    if (opts.userId !== undefined) q.where({ user_id: opts.userId });
    return ((await q) as InboxRow[]).map(toMessage);
  }

  async setEmailState(moId: string, state: EmailState, attempts: number, error = ''): Promise<void> {
    await this.db('inbox')
      .where({ mo_id: moId })
      .update({ email_state: state, email_attempts: attempts, email_error: error.slice(0, 255) });
  }

  /** Makes a message visible in the inbox (email failed or impossible: it must not be lost). */
  async showInInbox(moId: string): Promise<void> {
    await this.db('inbox').where({ mo_id: moId }).update({ chat: true });
  }

  /** The outcome of delivering a chat message to the user's SIP contact (SIP front). */
  async setSipState(moId: string, state: SipChatState, attempts: number, detail = ''): Promise<void> {
    await this.db('inbox')
      .where({ mo_id: moId })
      .update({ sip_state: state, sip_attempts: attempts, sip_detail: detail.slice(0, 255) });
  }

  async getSipState(
    moId: string,
  ): Promise<{ state: SipChatState | ''; attempts: number; detail: string } | undefined> {
    const r = (await this.db('inbox')
      .select('sip_state', 'sip_attempts', 'sip_detail')
      .where({ mo_id: moId })
      .first()) as { sip_state: string; sip_attempts: number; sip_detail: string } | undefined;
    return r && { state: r.sip_state as SipChatState | '', attempts: r.sip_attempts, detail: r.sip_detail };
  }

  async setCommand(moId: string, command: string): Promise<void> {
    await this.db('inbox')
      .where({ mo_id: moId })
      .update({ command: command.slice(0, 16) });
  }
}
