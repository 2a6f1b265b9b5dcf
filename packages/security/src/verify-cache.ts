import { createHmac, randomBytes } from 'node:crypto';
import { verifySecret } from './password-hash.js';

export interface VerifierOptions {
  /** How long a successful verification is remembered (ms). Default 60 s. */
  ttlMs?: number;
  maxEntries?: number;
  /** The slow check; verifySecret by default (tests may count calls). */
  verify?: (secret: string, stored: string) => Promise<boolean>;
  now?: () => number;
}

/**
 * scrypt on every request would cap a bulk sender that authenticates each request at a few dozen
 * requests per second per core. This remembers SUCCESSFUL verifications in process memory for a
 * short time, keyed by HMAC(process-random key, subject, stored hash, secret): the secret itself is
 * never kept, a dump of the map reveals nothing usable, and an entry stops matching by itself the
 * moment the stored hash changes (new password, new key). Concurrent checks of the same triple share
 * one scrypt run. Failures are never cached (each one costs a full scrypt, and the ban list slows
 * and bans repeated failures).
 */
export class SecretVerifier {
  private readonly key = randomBytes(32);
  private readonly ok = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly slow: (secret: string, stored: string) => Promise<boolean>;
  private readonly now: () => number;
  /** Verifications that ran scrypt (for metrics and tests). */
  slowChecks = 0;

  constructor(opts: VerifierOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.slow = opts.verify ?? verifySecret;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether `secret` matches `stored` for `subject` (e.g. `user:7`, `apikey:3`). Empty secrets or
   * stored values never match.
   */
  async verify(subject: string, secret: string, stored: string): Promise<boolean> {
    if (secret === '' || stored === '') return false;
    const k = createHmac('sha256', this.key)
      .update(subject)
      .update('\0')
      .update(stored)
      .update('\0')
      .update(secret)
      .digest('base64url');
    const until = this.ok.get(k);
    const now = this.now();
    if (until !== undefined) {
      if (until > now) return true;
      this.ok.delete(k);
    }
    let p = this.inflight.get(k);
    if (!p) {
      this.slowChecks++;
      p = this.slow(secret, stored).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    const good = await p;
    if (good) {
      if (this.ok.size >= this.maxEntries) this.evictExpired();
      if (this.ok.size >= this.maxEntries) this.ok.clear();
      this.ok.set(k, this.now() + this.ttlMs);
    }
    return good;
  }

  /** Forgets everything (e.g. on a "users changed" notification). */
  clear(): void {
    this.ok.clear();
  }

  get size(): number {
    return this.ok.size;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [k, until] of this.ok) if (until <= now) this.ok.delete(k);
  }
}
