import type { OutboundSms } from '@smsfleet/core';
import { CreditHoldsRepo, type Knex } from '@smsfleet/db';
import type { Logger } from '@smsfleet/runtime';

export interface CreditHoldRecoveryOptions {
  db: Knex;
  /** Queues recovered messages (the accept pipeline). */
  requeue(msgs: OutboundSms[]): Promise<void>;
  /**
   * The smsids among these that the fleet already knows (a state in the message status store):
   * they were queued before the crash, only the hold's delete was lost. Not queued again.
   */
  known(smsids: string[]): Promise<Set<string>>;
  log: Logger;
  /** A hold older than this belongs to a request that died (default 30 s: far above any flush). */
  afterMs: number;
  /** How often to look (default 5 s). */
  everyMs: number;
}

/**
 * Rolls forward credit holds left by an api-gateway that died between reserving credit and
 * queueing the messages (SIGKILL, OOM, power): their messages are queued, so the reserved credit
 * is billed or given back by billing like any other. Every replica runs it; a hold is claimed with
 * SKIP LOCKED so each is recovered once.
 */
export function startCreditHoldRecovery(opts: CreditHoldRecoveryOptions): { close(): Promise<void> } {
  const holds = new CreditHoldsRepo(opts.db);
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const round = async () => {
    const n = await holds.recover<OutboundSms>(new Date(Date.now() - opts.afterMs), 100, async (h) => {
      const known = await opts.known(h.messages.map((m) => m.smsid));
      const missing = h.messages.filter((m) => !known.has(m.smsid));
      if (missing.length) await opts.requeue(missing);
      opts.log.warn(
        {
          token: h.token,
          userId: h.userId,
          messages: h.messages.length,
          requeued: missing.length,
          amount: h.amount,
        },
        'credit hold rolled forward: messages of an interrupted request queued',
      );
    });
    if (n > 0) opts.log.warn({ holds: n }, 'credit holds recovered');
  };
  const tick = () => {
    if (closed) return;
    running = running
      .then(round)
      .catch((err: Error) => opts.log.error({ err: err.message }, 'credit hold recovery failed'));
  };
  tick();
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  return {
    close: async () => {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
