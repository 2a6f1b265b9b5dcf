import { CreditHoldsRepo, type HoldRequest, type Knex } from '@smsfleet/db';
import { MicroBatcher } from '@smsfleet/queue';

/** Requests with more messages than this reserve alone (keeps one INSERT far below max_allowed_packet). */
const ALONE_ABOVE_MESSAGES = 1000;

interface Pending {
  req: HoldRequest;
  ok: boolean;
}

/**
 * Group commit of credit holds: the reservations of requests arriving together are written in ONE
 * transaction (`CreditHoldsRepo.reserveMany`: one UPDATE per user, one multi-row INSERT) and their
 * releases with ONE delete, instead of a transaction and a delete per request. While a flush runs
 * (at most two at a time), new requests gather for the next one, so batches grow with load and an
 * idle server adds no wait (the window is one timer tick). Crash safety is the hold's own: a
 * request is answered only after its hold is committed, and a hold whose delete is lost is rolled
 * forward by the recovery.
 */
export class CreditHoldBatcher {
  private readonly repo: CreditHoldsRepo;
  private readonly reserves: MicroBatcher<Pending>;
  private readonly releases: MicroBatcher<string>;

  constructor(db: Knex, opts: { maxRequests?: number; maxWaitMs?: number } = {}) {
    this.repo = new CreditHoldsRepo(db);
    const maxItems = opts.maxRequests ?? 256;
    const maxWaitMs = opts.maxWaitMs ?? 0;
    this.reserves = new MicroBatcher<Pending>({
      maxItems,
      maxWaitMs,
      maxConcurrentFlushes: 2,
      flush: async (items) => {
        const ok = await this.repo.reserveMany(items.map((p) => p.req));
        items.forEach((p, i) => {
          p.ok = ok[i]!;
        });
      },
    });
    this.releases = new MicroBatcher<string>({
      maxItems: maxItems * 4,
      maxWaitMs,
      maxConcurrentFlushes: 2,
      flush: (tokens) => this.repo.release(tokens),
    });
  }

  /** Reserves and writes the hold; false: not enough credit, nothing written. */
  async reserve(req: HoldRequest): Promise<boolean> {
    if (req.messages.length > ALONE_ABOVE_MESSAGES) return this.repo.reserve(req);
    const p: Pending = { req, ok: false };
    await this.reserves.add(p);
    return p.ok;
  }

  /** The hold's messages are queued: deletes the hold (together with others released meanwhile). */
  release(token: string): Promise<void> {
    return this.releases.add(token);
  }

  /** The messages could not be queued: gives `amount` back and drops the hold (rare: not batched). */
  cancel(token: string, userId: number, amount: string): Promise<void> {
    return this.repo.cancel(token, userId, amount);
  }

  /** Finishes every reservation and release in flight. */
  async drain(): Promise<void> {
    await this.reserves.drain();
    await this.releases.drain();
  }
}
