import { timingSafeEqual } from 'node:crypto';
import { hashApiKey } from '@smsfleet/db';
import type { Principal } from '../auth.js';
import { ProblemError } from './problem.js';

/** Who a /v1 request acts for. */
export interface V1Principal extends Principal {
  /** api_keys.id; 0 for the server key (`apiv2key`). */
  keyId: number;
}

export interface ApiKeyAuthDeps {
  /** The enabled key's owner, if the token hash is a known enabled key and its user is enabled. */
  lookup(tokenHash: string): Promise<V1Principal | undefined>;
  /** The server key (`apiv2key`); empty = disabled. */
  serverKey(): string;
  ttlMs?: number;
  maxEntries?: number;
}

function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/**
 * Bearer API keys. Lookups are cached by token hash for a few seconds (hits and misses) so the hot
 * path does no query per request; `clear()` runs on "users changed" notifications, so a revoked key
 * stops working at once on every replica that hears it and within `ttlMs` on the rest.
 */
export class ApiKeyAuth {
  private readonly cache = new Map<string, { principal: V1Principal | undefined; expires: number }>();
  private readonly loading = new Map<string, Promise<V1Principal | undefined>>();

  constructor(private readonly deps: ApiKeyAuthDeps) {}

  async authenticate(authorization: string | undefined): Promise<V1Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new ProblemError('UNAUTHORIZED', 'send an API key: Authorization: Bearer <key>');
    const token = m[1]!;
    const serverKey = this.deps.serverKey();
    // The server key acts as an admin, as Mizu's `authkey` does on /mvapireq.
    if (serverKey && sameSecret(token, serverKey))
      return { userId: 0, name: 'apikey', admin: true, keyId: 0 };
    const hash = hashApiKey(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    let principal: V1Principal | undefined;
    if (hit && hit.expires > now) principal = hit.principal;
    else {
      let p = this.loading.get(hash);
      if (!p) {
        p = this.deps.lookup(hash).finally(() => this.loading.delete(hash));
        this.loading.set(hash, p);
      }
      principal = await p;
      if (this.cache.size >= (this.deps.maxEntries ?? 100_000)) this.cache.clear();
      this.cache.set(hash, { principal, expires: Date.now() + (this.deps.ttlMs ?? 5_000) });
    }
    if (!principal) throw new ProblemError('UNAUTHORIZED', 'invalid or revoked API key');
    return principal;
  }

  clear(): void {
    this.cache.clear();
  }
}
