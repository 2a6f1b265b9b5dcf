/**
 * Server transactions for non-INVITE requests (RFC 3261 17.2.2), just enough to absorb UDP
 * retransmissions: a retransmitted request gets the same response again (or nothing while the
 * first is still being handled), so a MESSAGE is never sent as SMS twice.
 */
import type { SipMessageObject, SipRequest } from './sip-message.js';
import type { Source } from './transport.js';

interface Entry {
  response?: SipMessageObject;
  expiresAt: number;
}

export function transactionKey(req: SipRequest, src: Source): string {
  const branch = req.headers.via[0]?.params['branch'] ?? '';
  return [
    src.transport,
    src.address,
    src.port,
    branch,
    req.headers['call-id'],
    req.headers.cseq.seq,
    req.method.toUpperCase(),
  ].join('|');
}

export class ServerTransactions {
  private readonly entries = new Map<string, Entry>();

  /** Timer J for UDP is 64*T1 = 32 s. */
  constructor(private readonly keepMs = 32_000) {}

  /** `new` the first time; else the stored response (undefined while still in progress). */
  begin(
    key: string,
    now = Date.now(),
  ): { state: 'new' } | { state: 'retransmission'; response?: SipMessageObject } {
    const e = this.entries.get(key);
    if (e && e.expiresAt > now) return { state: 'retransmission', response: e.response };
    this.entries.set(key, { expiresAt: now + this.keepMs });
    return { state: 'new' };
  }

  finish(key: string, response: SipMessageObject | undefined, now = Date.now()): void {
    this.entries.set(key, { response, expiresAt: now + this.keepMs });
  }

  prune(now = Date.now()): void {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
