import type { User } from '@smsfleet/db';

/**
 * Users by name, cached for `ttlMs` so the hot path does no query per request; cleared at once on a
 * "users changed" notification. Misses are cached too (a flood of bad names costs one query each TTL).
 */
export class UserCache {
  private readonly entries = new Map<string, { user: User | undefined; expires: number }>();
  private readonly loading = new Map<string, Promise<User | undefined>>();

  constructor(
    private readonly load: (name: string) => Promise<User | undefined>,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 100_000,
  ) {}

  async get(name: string): Promise<User | undefined> {
    const hit = this.entries.get(name);
    if (hit && hit.expires > Date.now()) return hit.user;
    let p = this.loading.get(name);
    if (!p) {
      p = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, p);
    }
    const user = await p;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(name, { user, expires: Date.now() + this.ttlMs });
    return user;
  }

  clear(): void {
    this.entries.clear();
  }
}
