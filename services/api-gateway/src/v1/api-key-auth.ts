import { timingSafeEqual } from 'node:crypto';
import { ApiKeysRepo, hashApiKey } from '@smsfleet/db';
import type { ApiContext } from '../api-context.js';
import type { AuthBan, Principal } from '../auth.js';
import { ProblemError } from './problem.js';

/** Who a /v1 request acts for. */
export interface V1Principal extends Principal {
  /** api_keys.id; 0 for the server key (`apiv2key`). */
  keyId: number;
}

export interface ApiKeyAuthDeps {
  /**
   * The enabled key's owner, if the token is a known enabled key (its scrypt hash checked) and its
   * user is enabled.
   */
  lookup(token: string): Promise<V1Principal | undefined>;
  /** The failed-authentication ban list (a wrong key counts for the client's address). */
  guard?: AuthBan;
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

  /** `clientIp`: the caller's address for the ban list (without it, nothing is counted). */
  async authenticate(authorization: string | undefined, clientIp?: string): Promise<V1Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new ProblemError('UNAUTHORIZED', 'send an API key: Authorization: Bearer <key>');
    const token = m[1]!;
    const guard = clientIp ? this.deps.guard : undefined;
    if (guard) {
      const v = await guard.admit({ address: clientIp });
      if (v.banned) throw new ProblemError('BANNED', v.reason);
    }
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
        p = this.deps.lookup(token).finally(() => this.loading.delete(hash));
        this.loading.set(hash, p);
      }
      principal = await p;
      if (this.cache.size >= (this.deps.maxEntries ?? 100_000)) this.cache.clear();
      this.cache.set(hash, { principal, expires: Date.now() + (this.deps.ttlMs ?? 5_000) });
    }
    if (!principal) {
      const v = await guard?.fail({ address: clientIp }).catch(() => undefined);
      if (v?.banned) throw new ProblemError('BANNED', v.reason);
      throw new ProblemError('UNAUTHORIZED', 'invalid or revoked API key');
    }
    return principal;
  }

  clear(): void {
    this.cache.clear();
  }
}

const shared = new WeakMap<ApiContext, ApiKeyAuth>();

/**
 * The api-gateway's one ApiKeyAuth (shared by /v1, /v1/cdrs and the inbox): keys checked against
 * their scrypt hashes through the context's cached verifier, wrong keys counted by the ban list,
 * the cache cleared on "users changed" notifications.
 */
export function apiKeyAuthFor(ctx: ApiContext): ApiKeyAuth {
  let auth = shared.get(ctx);
  if (!auth) {
    const keys = new ApiKeysRepo(ctx.db);
    const a = new ApiKeyAuth({
      serverKey: () => ctx.config.current().apiv2key,
      guard: ctx.secrets.guard,
      lookup: async (token) => {
        const key = await keys.findByToken(token, (subject, secret, stored) =>
          ctx.secrets.verifier.verify(subject, secret, stored),
        );
        if (!key) return undefined;
        const user = await ctx.users.findById(key.userId);
        if (!user || !user.enabled) return undefined;
        return { userId: user.id, name: user.name, admin: user.type === 'admin', keyId: key.id };
      },
    });
    ctx.onClose(
      'api-key-auth',
      ctx.bus.onNotify('users', () => a.clear()),
    );
    shared.set(ctx, a);
    auth = a;
  }
  return auth;
}
