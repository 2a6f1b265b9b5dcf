import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  DEFAULT_AUTH_BAN,
  banReason,
  delayFor,
  isIgnoredAddress,
  memberOf,
  normalizeAddress,
  normalizeUser,
  parseMember,
  verdictFor,
  type AuthBanSettings,
  type AuthSubject,
  type AuthVerdict,
  type BanScope,
  type SubjectState,
} from './auth-ban-policy.js';

// KEYS: 1 bans (zset member -> until), 2 slow (zset member -> expiry), 3 slow counts (hash),
// 4.. one failure zset per subject. ARGV: now, window ms, slowAfter, ban ms, nonce, then per
// subject its member and ban threshold. Returns per subject: failures, 0|1 (already)|2 (new), until.
const FAIL_LUA = `
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2]); local slowAfter = tonumber(ARGV[3])
local banMs = tonumber(ARGV[4]); local out = {}
for i = 4, #KEYS do
  local j = 6 + (i - 4) * 2
  local member = ARGV[j]; local banAfter = tonumber(ARGV[j + 1]); local k = KEYS[i]
  redis.call('ZADD', k, now, ARGV[5] .. ':' .. i)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - win)
  redis.call('PEXPIRE', k, win)
  local c = redis.call('ZCARD', k)
  local state = 0; local untilMs = 0
  local cur = redis.call('ZSCORE', KEYS[1], member)
  if cur and tonumber(cur) > now then
    state = 1; untilMs = tonumber(cur)
  elseif banAfter > 0 and c >= banAfter then
    state = 2; untilMs = now + banMs
    redis.call('ZADD', KEYS[1], untilMs, member)
    redis.call('DEL', k)
    redis.call('ZREM', KEYS[2], member); redis.call('HDEL', KEYS[3], member)
  end
  if state == 0 and slowAfter > 0 and c >= slowAfter then
    redis.call('ZADD', KEYS[2], now + win, member); redis.call('HSET', KEYS[3], member, c)
  end
  table.insert(out, c); table.insert(out, state); table.insert(out, tostring(untilMs))
end
return out`;

// KEYS: bans, slow, slow counts. ARGV: now. Drops what expired, returns the rest.
const STATE_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, m in ipairs(gone) do redis.call('HDEL', KEYS[3], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return { redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'), redis.call('HGETALL', KEYS[3]) }`;

export interface BanEntry {
  scope: BanScope;
  /** The address or user name. */
  id: string;
  /** Epoch ms. */
  until: number;
}

export interface AuthGuardOptions {
  /** Thresholds, read on every use (so config changes apply at once). */
  settings?: () => AuthBanSettings;
  /** How often the local copy of the fleet-wide state is refreshed (ms). Default 1000. */
  refreshMs?: number;
  /** Called for every recorded failure (metrics). */
  onFailure?: () => void;
  /** Called once per new ban (metrics, logs). */
  onBan?: (ban: BanEntry) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The failed-authentication ban list, fleet-wide in Redis. Failures are counted per client address
 * and per user name in a sliding window (a sorted set of timestamps per subject); past `slowAfter`
 * answers are held back, past `addressAfter` / `userAfter` the subject is banned for `banSec`.
 *
 * The hot path never waits for Redis: `check` reads a local copy of the bans and slow subjects that
 * is refreshed every `refreshMs` (one small script per replica per interval, whatever the traffic)
 * and updated at once by this replica's own failures. A ban made on another replica therefore
 * applies here within `refreshMs`. A success resets nothing: a banned address stays banned even if
 * it then guesses right, and its correct answers are refused as well.
 *
 * Use: `const v = await guard.admit(subject)`; refuse if `v.banned`; verify; on a wrong secret
 * `await guard.fail(subject)` (which also waits the delay before the failure is answered).
 */
export class AuthGuard {
  private bans = new Map<string, number>();
  private slow = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly settings: () => AuthBanSettings;

  constructor(
    private readonly redis: Redis,
    /** Key prefix (the fleet's QUEUE_PREFIX): keys are `<prefix>:authban:...`. */
    private readonly prefix: string,
    private readonly opts: AuthGuardOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.settings = opts.settings ?? (() => DEFAULT_AUTH_BAN);
  }

  private get keys() {
    const p = `${this.prefix}:authban`;
    return { bans: `${p}:bans`, slow: `${p}:slow`, slowCounts: `${p}:slowc`, fail: `${p}:f:` };
  }

  /** Loads the state once and keeps refreshing it until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.opts.refreshMs ?? 1000;
    this.timer = setInterval(() => {
      this.refresh().catch(() => {
        // Redis unreachable: keep the last known state; the next tick retries.
      });
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads the fleet-wide bans and slow subjects from Redis (replaces the local copy). */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const k = this.keys;
      const [bans, counts] = (await this.redis.eval(
        STATE_LUA,
        3,
        k.bans,
        k.slow,
        k.slowCounts,
        this.now(),
      )) as [string[], string[]];
      const nb = new Map<string, number>();
      for (let i = 0; i + 1 < bans.length; i += 2) nb.set(bans[i]!, Number(bans[i + 1]));
      const ns = new Map<string, number>();
      for (let i = 0; i + 1 < counts.length; i += 2) ns.set(counts[i]!, Number(counts[i + 1]));
      this.bans = nb;
      this.slow = ns;
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private stateOf(member: string | undefined): SubjectState | undefined {
    if (!member) return undefined;
    const until = this.bans.get(member);
    const failures = this.slow.get(member);
    if (until === undefined && failures === undefined) return undefined;
    return { bannedUntil: until, failures };
  }

  private members(s: AuthSubject, settings = this.settings()): { address?: string; user?: string } {
    let a = normalizeAddress(s.address);
    if (a && isIgnoredAddress(a, settings.ignoreAddresses)) a = '';
    const u = normalizeUser(s.user);
    return { address: a ? memberOf('address', a) : undefined, user: u ? memberOf('user', u) : undefined };
  }

  /** The verdict from the local copy, without waiting. */
  check(subject: AuthSubject): AuthVerdict {
    const s = this.settings();
    const m = this.members(subject, s);
    return verdictFor(this.stateOf(m.address), this.stateOf(m.user), s, this.now());
  }

  /** `check`, and when the subject is being slowed down, waits the delay before answering. */
  async admit(subject: AuthSubject): Promise<AuthVerdict> {
    const v = this.check(subject);
    if (!v.banned && v.delayMs > 0) await this.sleep(v.delayMs);
    return v;
  }

  /**
   * Records a failed authentication (wrong password, key, digest...) for the address and the user
   * name, bans what crossed its threshold, then waits the delay the failure count calls for
   * (`wait: false`: only reports it, e.g. where the answer is an SMS anyway).
   * Returns the verdict after this failure. Redis errors propagate (the caller answers the failure
   * anyway).
   */
  async fail(subject: AuthSubject, opts: { wait?: boolean } = {}): Promise<AuthVerdict> {
    const s = this.settings();
    const m = this.members(subject, s);
    const list: { member: string; banAfter: number; scope: BanScope }[] = [];
    if (m.address) list.push({ member: m.address, banAfter: s.addressAfter, scope: 'address' });
    if (m.user) list.push({ member: m.user, banAfter: s.userAfter, scope: 'user' });
    if (list.length === 0) return { banned: false, delayMs: 0 };
    this.opts.onFailure?.();
    const k = this.keys;
    const now = this.now();
    const args: (string | number)[] = [
      now,
      s.windowSec * 1000,
      s.slowAfter,
      s.banSec * 1000,
      randomBytes(6).toString('hex'),
    ];
    for (const e of list) args.push(e.member, e.banAfter);
    const res = (await this.redis.eval(
      FAIL_LUA,
      3 + list.length,
      k.bans,
      k.slow,
      k.slowCounts,
      ...list.map((e) => k.fail + e.member),
      ...args,
    )) as (number | string)[];
    let banned: AuthVerdict | undefined;
    let delay = 0;
    list.forEach((e, i) => {
      const count = Number(res[i * 3]);
      const state = Number(res[i * 3 + 1]);
      const until = Number(res[i * 3 + 2]);
      if (state > 0) {
        this.bans.set(e.member, until);
        this.slow.delete(e.member);
        if (state === 2) {
          const id = parseMember(e.member)!.id;
          this.opts.onBan?.({ scope: e.scope, id, until });
        }
        banned ??= { banned: true, scope: e.scope, until, reason: banReason(until) };
      } else {
        if (s.slowAfter > 0 && count >= s.slowAfter) this.slow.set(e.member, count);
        delay = Math.max(delay, delayFor(count, s));
      }
    });
    if (banned) return banned;
    if (delay > 0 && opts.wait !== false) await this.sleep(delay);
    return { banned: false, delayMs: delay };
  }

  /** The current bans, fleet-wide, soonest to end first. */
  async list(): Promise<BanEntry[]> {
    const rows = await this.redis.zrangebyscore(this.keys.bans, `(${this.now()}`, '+inf', 'WITHSCORES');
    const out: BanEntry[] = [];
    for (let i = 0; i + 1 < rows.length; i += 2) {
      const p = parseMember(rows[i]!);
      if (p) out.push({ ...p, until: Number(rows[i + 1]) });
    }
    return out;
  }

  /**
   * Lifts bans and forgets recorded failures: of an address, of a user name, or everything.
   * Returns how many bans were lifted. Other replicas see it at their next refresh.
   */
  async clear(what: { address?: string; user?: string } | 'all'): Promise<number> {
    const k = this.keys;
    if (what === 'all') {
      const lifted = await this.redis.zcount(k.bans, `(${this.now()}`, '+inf');
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', `${k.fail}*`, 'COUNT', 500);
        cursor = next;
        if (found.length) await this.redis.del(...found);
      } while (cursor !== '0');
      await this.redis.del(k.bans, k.slow, k.slowCounts);
      this.bans.clear();
      this.slow.clear();
      return lifted;
    }
    const m = this.members(what, { ...this.settings(), ignoreAddresses: '' });
    let lifted = 0;
    for (const member of [m.address, m.user]) {
      if (!member) continue;
      const until = await this.redis.zscore(k.bans, member);
      if (until !== null && Number(until) > this.now()) lifted++;
      await this.redis
        .multi()
        .zrem(k.bans, member)
        .zrem(k.slow, member)
        .hdel(k.slowCounts, member)
        .del(k.fail + member)
        .exec();
      this.bans.delete(member);
      this.slow.delete(member);
    }
    return lifted;
  }
}
