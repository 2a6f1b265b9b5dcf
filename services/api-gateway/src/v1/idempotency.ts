import { createHash } from 'node:crypto';
import type { Redis } from '@smsfleet/queue';
import { ProblemError } from './problem.js';

/** The answer stored for a key and replayed to retries. */
export interface StoredAnswer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

interface Record_ {
  /** sha256 of method, path and body: the same key with another request is refused. */
  fp: string;
  state: 'pending' | 'done';
  answer?: StoredAnswer;
}

export interface IdempotencyOptions {
  /** How long an answer is kept (default 24 h). */
  ttlSeconds?: number;
  /**
   * How long a claim without an answer lives: a process that died mid-request frees the key after
   * this, so a retry can run (nothing was queued: /v1 queues only after validation, at the end).
   */
  pendingTtlSeconds?: number;
  /** How long a concurrent duplicate waits for the first answer before getting 409. */
  waitMs?: number;
  pollMs?: number;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export function fingerprint(method: string, path: string, body: string | Buffer): string {
  return createHash('sha256')
    .update(method)
    .update('\0')
    .update(path)
    .update('\0')
    .update(body)
    .digest('hex');
}

/**
 * Idempotency keys in Redis, per user: `SET NX` claims the key with the request's fingerprint, the
 * answer replaces the claim, and retries read it back. A concurrent duplicate polls until the first
 * answer is stored. Server errors (5xx) release the claim so the client may retry.
 */
export class IdempotencyStore {
  private readonly ttl: number;
  private readonly pendingTtl: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: IdempotencyOptions = {},
  ) {
    this.ttl = opts.ttlSeconds ?? 24 * 3600;
    this.pendingTtl = opts.pendingTtlSeconds ?? 120;
  }

  private key(userId: number, idemKey: string): string {
    // Hashed: the client's key may hold any characters and should not shape Redis key names.
    const h = createHash('sha256').update(idemKey).digest('hex').slice(0, 40);
    return `${this.prefix}:idem:${userId}:${h}`;
  }

  /**
   * Runs `handler` once per (user, key): returns its answer, or the stored answer of an earlier
   * identical request (`replayed` true).
   */
  async run(
    userId: number,
    idemKey: string,
    fp: string,
    handler: () => Promise<StoredAnswer>,
  ): Promise<{ answer: StoredAnswer; replayed: boolean }> {
    if (idemKey.length === 0 || idemKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
      throw new ProblemError(
        'BAD_REQUEST',
        `Idempotency-Key must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      );
    const key = this.key(userId, idemKey);
    const claim: Record_ = { fp, state: 'pending' };
    const claimed = await this.redis.set(key, JSON.stringify(claim), 'EX', this.pendingTtl, 'NX');
    if (claimed !== 'OK') return { answer: await this.waitForAnswer(key, fp), replayed: true };
    let answer: StoredAnswer;
    try {
      answer = await handler();
    } catch (err) {
      await this.redis.del(key).catch(() => undefined);
      throw err;
    }
    if (answer.status >= 500) await this.redis.del(key);
    else {
      const done: Record_ = { fp, state: 'done', answer };
      await this.redis.set(key, JSON.stringify(done), 'EX', this.ttl);
    }
    return { answer, replayed: false };
  }

  private async waitForAnswer(key: string, fp: string): Promise<StoredAnswer> {
    const until = Date.now() + (this.opts.waitMs ?? 10_000);
    for (;;) {
      const raw = await this.redis.get(key);
      if (raw === null)
        // The first request failed with a server error (claim released) or expired: say so
        // rather than run a second time behind its back.
        throw new ProblemError(
          'IDEMPOTENCY_IN_PROGRESS',
          'the first request with this key did not complete; retry',
        );
      const rec = JSON.parse(raw) as Record_;
      if (rec.fp !== fp)
        throw new ProblemError(
          'IDEMPOTENCY_MISMATCH',
          'this Idempotency-Key was used with a different request',
        );
      if (rec.state === 'done' && rec.answer) return rec.answer;
      if (Date.now() >= until)
        throw new ProblemError(
          'IDEMPOTENCY_IN_PROGRESS',
          'a request with this Idempotency-Key is still running; retry later',
        );
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 50));
    }
  }
}
