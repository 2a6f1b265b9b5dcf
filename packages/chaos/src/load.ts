import type { Fleet } from '@smsfleet/harness';

export interface LoadOptions {
  /** Messages to send. */
  messages: number;
  /** Offered messages per second (steady). */
  rate: number;
  /** The user the messages are sent (and charged) for: authkey + authid + asuser=1. */
  user: string;
  /** Recipients per batch request (asendsms-style comma list on `sendsms`). */
  batchSize?: number;
  /** Share of messages sent as single requests (0..1); the rest go in batches. */
  singleShare?: number;
  /** Requests in flight at most. */
  concurrency?: number;
  /** Per-request timeout; a timed-out request counts as not accepted. */
  requestTimeoutMs?: number;
  /** First digits of the recipient numbers (each message gets its own number). */
  numberPrefix?: string;
  /** How long a refused request is retried (connection errors, 5xx, shutting down); default 60 s. */
  retryForMs?: number;
}

export interface LoadResult {
  /** Messages offered. */
  sent: number;
  /** smsids answered OK. */
  accepted: Set<string>;
  /** Messages whose request was finally refused (after retries): connection error, 5xx, ERROR. */
  refused: number;
  /** Requests retried after a temporary refusal (a retried request may create a second message). */
  retries: number;
  /** The first few distinct reasons a request attempt was refused, with attempt counts. */
  refusals: Map<string, number>;
}

/**
 * Sends `messages` messages through the Mizu API at a steady rate, a mix of single requests and
 * batches, recording every smsid answered OK. Faults are expected: a refused request (connection
 * refused or reset, timeout, 5xx, `ERROR ...`) means "not accepted", never "lost".
 */
export class LoadGenerator {
  readonly result: LoadResult = { sent: 0, accepted: new Set(), refused: 0, retries: 0, refusals: new Map() };
  private readonly done: Promise<LoadResult>;
  private readonly listeners: { atLeast: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly opts: LoadOptions,
  ) {
    this.done = this.loop();
  }

  /** Messages offered so far. */
  get offered(): number {
    return this.result.sent;
  }

  /** Batch requests (more than one recipient) waiting for their answer right now. */
  batchesInFlight = 0;

  /** Resolves when a batch request is waiting for its answer (polls every millisecond). */
  async batchInFlight(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.batchesInFlight === 0) {
      if (Date.now() > until || this.stopped) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return true;
  }

  /** Resolves once at least `n` messages were offered (or the run ended). */
  offeredAtLeast(n: number): Promise<void> {
    if (this.result.sent >= n || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.listeners.push({ atLeast: n, resolve }));
  }

  finished(): Promise<LoadResult> {
    return this.done;
  }

  private notify(): void {
    for (let i = this.listeners.length - 1; i >= 0; i--) {
      const l = this.listeners[i]!;
      if (this.result.sent >= l.atLeast || this.stopped) {
        this.listeners.splice(i, 1);
        l.resolve();
      }
    }
  }

  private plan(): number[] {
    const batch = this.opts.batchSize ?? 50;
    const singleShare = this.opts.singleShare ?? 0.2;
    const sizes: number[] = [];
    let left = this.opts.messages;
    let singles = 0;
    let total = 0;
    while (left > 0) {
      // Keep the share of single messages near `singleShare` throughout the run.
      const single = total === 0 ? singleShare > 0 : singles / total < singleShare;
      const n = single ? 1 : Math.min(batch, left);
      if (single) singles++;
      sizes.push(n);
      total += n;
      left -= n;
    }
    return sizes;
  }

  private async loop(): Promise<LoadResult> {
    const sizes = this.plan();
    const concurrency = this.opts.concurrency ?? 16;
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    let offered = 0;
    while (next < sizes.length) {
      // Steady rate: message k goes out at started + k / rate.
      const due = started + (offered / this.opts.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
      if (Date.now() < due) continue;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const size = sizes[next]!;
      const first = offered;
      next++;
      offered += size;
      this.result.sent = offered;
      const p = this.send(first, size).finally(() => inFlight.delete(p));
      inFlight.add(p);
      this.notify();
    }
    await Promise.all(inFlight);
    this.stopped = true;
    this.notify();
    return this.result;
  }

  private refuse(reason: string, n: number): void {
    this.result.refused += n;
    this.reason(reason);
  }

  private reason(reason: string): void {
    const key = reason.slice(0, 80);
    if (this.result.refusals.has(key) || this.result.refusals.size < 10)
      this.result.refusals.set(key, (this.result.refusals.get(key) ?? 0) + 1);
  }

  private async send(first: number, size: number): Promise<void> {
    const prefix = this.opts.numberPrefix ?? '3670';
    const numbers = Array.from({ length: size }, (_, k) => `${prefix}${String(first + k).padStart(7, '0')}`);
    const body = new URLSearchParams({
      apientry: 'sendsms',
      authkey: this.fleet.apiKey,
      authid: this.opts.user,
      asuser: '1',
      bnum: numbers.join(','),
      message: `chaos ${first}`,
    }).toString();
    const giveUpAt = Date.now() + (this.opts.retryForMs ?? 60_000);
    for (let attempt = 1; ; attempt++) {
      if (size > 1) this.batchesInFlight++;
      const outcome = await this.attempt(body, size).finally(() => {
        if (size > 1) this.batchesInFlight--;
      });
      if (outcome === undefined) return;
      // A client retries what the server could not take (down, restarting, shutting down).
      if (!outcome.retryable || Date.now() > giveUpAt) {
        this.refuse(outcome.reason, size);
        return;
      }
      this.result.retries++;
      this.reason(outcome.reason);
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
    }
  }

  /** One request; undefined when it was answered OK, else why not and whether to retry. */
  private async attempt(
    body: string,
    size: number,
  ): Promise<{ reason: string; retryable: boolean } | undefined> {
    let text: string;
    let status: number;
    try {
      const res = await fetch(`${this.fleet.url('api-gateway')}/mvapireq/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { reason: e.cause?.code ?? e.name ?? 'error', retryable: true };
    }
    if (status >= 500 || !text.startsWith('OK ')) {
      // Temporary refusals: 5xx, shutting down, could not be queued. Anything else is final.
      const retryable = status >= 500 || /shutting down|try again|unavailable/i.test(text);
      return { reason: `${status} ${text.slice(0, 60)}`, retryable };
    }
    const ids = text.slice(3).trim().split(',');
    // An OK answer accepts every id it names, whatever else is wrong with it (counted too).
    if (ids.length !== size) this.refuse(`OK with ${ids.length} ids for ${size} numbers`, 0);
    for (const id of ids) this.result.accepted.add(id);
    return undefined;
  }
}
