import type { Knex } from 'knex';

/** The CDR of one inbound message (type SMS, direction inbound, no cost). */
export interface InboundCdr {
  /** The inbound message id (MoMessage id or the assembled message's id). */
  smsid: string;
  userId: number;
  gatewayId: number;
  caller: string;
  callee: string;
  segments: number;
  /** 'delivered' (a user got it) or 'undelivered' (no user owns the number, or delivery is off). */
  state: string;
  disconnectReason: string;
  clientIp: string;
  acceptedAt: Date;
  finalAt: Date;
}

/**
 * Writes inbound CDRs into the shared `cdr` table with `direction = 'inbound'`; `INSERT IGNORE` on
 * the unique smsid makes a redelivered message write nothing.
 */
export class InboundCdrRepo {
  constructor(private readonly db: Knex) {}

  async insertIgnore(rows: readonly InboundCdr[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db('cdr')
      .insert(
        rows.map((c) => ({
          smsid: c.smsid,
          type: 'SMS',
          direction: 'inbound',
          user_id: c.userId,
          gateway_id: c.gatewayId,
          caller: c.caller.slice(0, 64),
          callee: c.callee.slice(0, 64),
          segments: c.segments,
          duration: 0,
          cost: '0',
          state: c.state,
          disconnect_reason: c.disconnectReason.slice(0, 255),
          client_ip: c.clientIp.slice(0, 64),
          accepted_at: c.acceptedAt,
          final_at: c.finalAt,
        })),
      )
      .onConflict('smsid')
      .ignore();
  }
}
