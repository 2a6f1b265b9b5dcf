import type { Redis } from 'ioredis';

/**
 * Fleet-wide operational figures kept in Redis, so the ops dashboard is right with any number of
 * replicas: every service adds what it saw to time buckets shared by all processes, and any
 * api-gateway replica reads them back. Writers buffer for about a second and write one pipeline,
 * so the hot path pays a map update per message, not a Redis call.
 *
 * Layout (all under the queue prefix, so a test's cleanup of `prefix:*` removes it):
 * - `P:ops:b:<gatewayId>:<bucket>` hash per gateway and OPS_BUCKET_MS bucket, expiring after
 *   OPS_BUCKET_TTL_SECONDS: fields `accepted`, `submitted`, `failed` (dispatch-time), `retried`,
 *   `throttled`, `final:<state>`, `e2e:<i>` / `prov:<i>` (latency histogram bucket i of
 *   OPS_LATENCY_BOUNDS_MS).
 * - `P:ops:t:<gatewayId>` hash of cumulative counts: `accepted`, `dispatched`. Their difference is
 *   the number of messages still queued for the gateway (waiting, delayed or being sent).
 * - `P:ops:failures` list of the latest final failures (JSON), capped at OPS_MAX_FAILURES.
 */
export const OPS_BUCKET_MS = 5_000;
export const OPS_BUCKET_TTL_SECONDS = 3_600;
export const OPS_MAX_FAILURES = 50;
/** Upper bounds of the latency histogram buckets; the last one is open (+Inf). */
export const OPS_LATENCY_BOUNDS_MS: readonly number[] = [
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  30_000,
  60_000,
  300_000,
  Infinity,
];

export type OpsCounter = 'accepted' | 'submitted' | 'failed' | 'retried' | 'throttled' | `final:${string}`;
export type OpsLatencyKind = 'e2e' | 'prov';

export interface RecentFailure {
  at: number;
  gatewayId: number;
  smsid: string;
  state: string;
  reason: string;
}

export interface OpsBucket {
  /** Epoch milliseconds of the bucket's start. */
  start: number;
  counts: Record<string, number>;
}

export function opsBucketIndex(atMs: number): number {
  return Math.floor(atMs / OPS_BUCKET_MS);
}

export function latencyBucketIndex(ms: number): number {
  for (let i = 0; i < OPS_LATENCY_BOUNDS_MS.length; i++) if (ms <= OPS_LATENCY_BOUNDS_MS[i]!) return i;
  return OPS_LATENCY_BOUNDS_MS.length - 1;
}

/**
 * The q-quantile (0..1) of a histogram given as counts per OPS_LATENCY_BOUNDS_MS bucket: the upper
 * bound of the bucket holding it (as Prometheus' histogram_quantile, without interpolation).
 * Undefined for an empty histogram.
 */
export function latencyQuantileMs(counts: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) {
      const bound = OPS_LATENCY_BOUNDS_MS[i] ?? Infinity;
      return Number.isFinite(bound) ? bound : OPS_LATENCY_BOUNDS_MS[OPS_LATENCY_BOUNDS_MS.length - 2];
    }
  }
  return undefined;
}

export interface OpsStatsWriterOptions {
  flushMs?: number;
  onError?(err: unknown): void;
}

export class OpsStatsWriter {
  private buckets = new Map<string, Map<string, number>>();
  private totals = new Map<number, Map<string, number>>();
  private failures: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: OpsStatsWriterOptions = {},
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1_000);
    this.timer.unref();
  }

  private add(map: Map<string, number>, field: string, n: number): void {
    map.set(field, (map.get(field) ?? 0) + n);
  }

  count(gatewayId: number, counter: OpsCounter, n = 1, atMs = Date.now()): void {
    if (n === 0) return;
    const key = `${this.prefix}:ops:b:${gatewayId}:${opsBucketIndex(atMs)}`;
    let m = this.buckets.get(key);
    if (!m) this.buckets.set(key, (m = new Map<string, number>()));
    this.add(m, counter, n);
  }

  latency(gatewayId: number, kind: OpsLatencyKind, ms: number, atMs = Date.now()): void {
    this.count(gatewayId, `${kind}:${latencyBucketIndex(ms)}` as OpsCounter, 1, atMs);
  }

  /** Cumulative per-gateway counts (`accepted`, `dispatched`). */
  total(gatewayId: number, field: 'accepted' | 'dispatched', n: number): void {
    if (n === 0) return;
    let m = this.totals.get(gatewayId);
    if (!m) this.totals.set(gatewayId, (m = new Map<string, number>()));
    this.add(m, field, n);
  }

  failure(f: RecentFailure): void {
    this.failures.push(JSON.stringify({ ...f, reason: f.reason.slice(0, 300) }));
    if (this.failures.length > OPS_MAX_FAILURES) this.failures.shift();
  }

  /** Writes what was gathered since the last flush in one pipeline. Never rejects. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.buckets.size === 0 && this.totals.size === 0 && this.failures.length === 0) return;
    const buckets = this.buckets;
    const totals = this.totals;
    const failures = this.failures;
    this.buckets = new Map();
    this.totals = new Map();
    this.failures = [];
    const p = this.redis.pipeline();
    for (const [key, fields] of buckets) {
      for (const [f, n] of fields) p.hincrby(key, f, n);
      p.expire(key, OPS_BUCKET_TTL_SECONDS);
    }
    for (const [gw, fields] of totals) {
      for (const [f, n] of fields) p.hincrby(`${this.prefix}:ops:t:${gw}`, f, n);
    }
    if (failures.length) {
      const key = `${this.prefix}:ops:failures`;
      p.lpush(key, ...failures);
      p.ltrim(key, 0, OPS_MAX_FAILURES - 1);
    }
    try {
      await p.exec();
    } catch (err) {
      // Figures for the dashboard only: losing one second of them must not disturb sending.
      this.opts.onError?.(err);
    }
  }

  /**
   * SMPP binds of one process (instance) for one gateway: `P:ops:smpp:<gatewayId>` hash, one field
   * per process with its figures and time; readers count only entries fresher than 15 s.
   */
  async smpp(
    gatewayId: number,
    instance: string,
    s: { bindsUp: number; windowInUse: number },
  ): Promise<void> {
    const key = `${this.prefix}:ops:smpp:${gatewayId}`;
    await this.redis
      .multi()
      .hset(key, instance, JSON.stringify({ ...s, at: Date.now() }))
      .expire(key, 60)
      .exec();
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      await this.flush();
    })();
    return this.closed;
  }
}

export class OpsStatsReader {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The last `count` buckets per gateway, oldest first, the last one being the current (partial) one. */
  async window(
    gatewayIds: readonly number[],
    count: number,
    nowMs = Date.now(),
  ): Promise<Map<number, OpsBucket[]>> {
    const last = opsBucketIndex(nowMs);
    const p = this.redis.pipeline();
    for (const gw of gatewayIds)
      for (let b = last - count + 1; b <= last; b++) p.hgetall(`${this.prefix}:ops:b:${gw}:${b}`);
    const res = (await p.exec()) ?? [];
    const out = new Map<number, OpsBucket[]>();
    let i = 0;
    for (const gw of gatewayIds) {
      const list: OpsBucket[] = [];
      for (let b = last - count + 1; b <= last; b++) {
        const [err, raw] = res[i++] ?? [null, {}];
        const counts: Record<string, number> = {};
        if (!err && raw && typeof raw === 'object')
          for (const [k, v] of Object.entries(raw as Record<string, string>)) counts[k] = Number(v);
        list.push({ start: b * OPS_BUCKET_MS, counts });
      }
      out.set(gw, list);
    }
    return out;
  }

  async totals(
    gatewayIds: readonly number[],
  ): Promise<Map<number, { accepted: number; dispatched: number }>> {
    const p = this.redis.pipeline();
    for (const gw of gatewayIds) p.hgetall(`${this.prefix}:ops:t:${gw}`);
    const res = (await p.exec()) ?? [];
    const out = new Map<number, { accepted: number; dispatched: number }>();
    gatewayIds.forEach((gw, i) => {
      const raw = (res[i]?.[1] ?? {}) as Record<string, string>;
      out.set(gw, { accepted: Number(raw.accepted ?? 0), dispatched: Number(raw.dispatched ?? 0) });
    });
    return out;
  }

  /** Binds and window in use per gateway, summed over processes that reported in the last 15 s. */
  async smppStatus(
    gatewayIds: readonly number[],
    nowMs = Date.now(),
  ): Promise<Map<number, { bindsUp: number; windowInUse: number }>> {
    const p = this.redis.pipeline();
    for (const gw of gatewayIds) p.hgetall(`${this.prefix}:ops:smpp:${gw}`);
    const res = (await p.exec()) ?? [];
    const out = new Map<number, { bindsUp: number; windowInUse: number }>();
    gatewayIds.forEach((gw, i) => {
      const raw = (res[i]?.[1] ?? {}) as Record<string, string>;
      for (const v of Object.values(raw)) {
        try {
          const e = JSON.parse(v) as { bindsUp: number; windowInUse: number; at: number };
          if (nowMs - e.at > 15_000) continue;
          const cur = out.get(gw) ?? { bindsUp: 0, windowInUse: 0 };
          cur.bindsUp += e.bindsUp;
          cur.windowInUse += e.windowInUse;
          out.set(gw, cur);
        } catch {
          // ignore a malformed entry
        }
      }
    });
    return out;
  }

  async recentFailures(limit = 20): Promise<RecentFailure[]> {
    const raw = await this.redis.lrange(`${this.prefix}:ops:failures`, 0, limit - 1);
    const out: RecentFailure[] = [];
    for (const r of raw) {
      try {
        out.push(JSON.parse(r) as RecentFailure);
      } catch {
        // a malformed entry is skipped, not fatal for the page
      }
    }
    return out;
  }
}
