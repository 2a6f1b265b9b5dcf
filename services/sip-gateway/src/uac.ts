/**
 * Non-INVITE client transactions (RFC 3261 17.1.2) for the MESSAGE requests we send: over UDP the
 * request is retransmitted from T1 doubling up to T2 until a final response or timer F; over TCP
 * and TLS it is sent once. The final status is the result (408 when nothing final came).
 */
import type { SipMessageObject } from './sip-message.js';
import type { Source } from './transport.js';

export interface UacOptions {
  t1Ms: number;
  t2Ms: number;
  /** Timer F: how long to wait for a final response. */
  timeoutMs: number;
}

interface Pending {
  resolve(status: { status: number; reason: string }): void;
  timers: NodeJS.Timeout[];
}

export class ClientTransactions {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly send: (m: SipMessageObject, to: Source) => Promise<void>,
    private readonly opts: UacOptions,
  ) {}

  /** Sends `m` (its top Via carries a unique branch) and waits for the final answer. */
  request(m: SipMessageObject, to: Source): Promise<{ status: number; reason: string }> {
    const branch = m.headers.via?.[0]?.params['branch'];
    if (!branch) return Promise.reject(new Error('request without a Via branch'));
    return new Promise((resolve) => {
      const p: Pending = { resolve, timers: [] };
      const done = (status: number, reason: string) => {
        if (!this.pending.has(branch)) return;
        this.pending.delete(branch);
        for (const t of p.timers) clearTimeout(t);
        resolve({ status, reason });
      };
      p.resolve = (r) => done(r.status, r.reason);
      this.pending.set(branch, p);
      const transmit = () => this.send(m, to).catch((err: Error) => done(503, `send failed: ${err.message}`));
      void transmit();
      if (to.transport === 'udp') {
        let interval = this.opts.t1Ms;
        const again = () => {
          if (!this.pending.has(branch)) return;
          void transmit();
          interval = Math.min(interval * 2, this.opts.t2Ms);
          p.timers.push(setTimeout(again, interval));
        };
        p.timers.push(setTimeout(again, interval));
      }
      p.timers.push(setTimeout(() => done(408, 'Request Timeout'), this.opts.timeoutMs));
    });
  }

  /** A response arrived: true when it belonged to one of our transactions. */
  onResponse(m: SipMessageObject): boolean {
    const branch = m.headers.via?.[0]?.params['branch'];
    if (!branch) return false;
    const p = this.pending.get(branch);
    if (!p) return false;
    // Provisional answers stop nothing for non-INVITE here (timer F keeps running).
    if ((m.status ?? 0) >= 200) p.resolve({ status: m.status ?? 0, reason: m.reason ?? '' });
    return true;
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    for (const [, p] of this.pending) p.resolve({ status: 503, reason: 'shutting down' });
    this.pending.clear();
  }
}
