import type { Redis } from 'ioredis';
import type { SmsEvent } from '@smsfleet/core';

/**
 * Keeps a final state final: a marker per smsid is written after the final event is published,
 * and later finals for a marked message (a late receipt, a duplicate, a timeout racing a receipt)
 * are dropped. A crash between publish and marker can let a second final through; billing is
 * idempotent on smsid, so it still gives one CDR with the first state.
 */
export class FinalGate {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  private key(smsid: string): string {
    return `${this.prefix}:final:${smsid}`;
  }

  async notYetFinal(events: SmsEvent[]): Promise<SmsEvent[]> {
    if (events.length === 0) return [];
    const unique = new Map<string, SmsEvent>();
    for (const e of events) if (!unique.has(e.smsid)) unique.set(e.smsid, e);
    const list = [...unique.values()];
    const res = await this.redis.mget(...list.map((e) => this.key(e.smsid)));
    return list.filter((_, i) => res[i] === null);
  }

  async mark(events: SmsEvent[]): Promise<void> {
    if (events.length === 0) return;
    const m = this.redis.multi();
    for (const e of events) m.set(this.key(e.smsid), e.state, 'EX', this.ttlSeconds);
    await m.exec();
  }
}
