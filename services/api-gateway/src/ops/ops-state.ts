import {
  OPS_BUCKET_MS,
  OpsStatsReader,
  Queue,
  gatewayQueueName,
  latencyQuantileMs,
  readCircuitStatuses,
  OPS_LATENCY_BOUNDS_MS,
  type OpsBucket,
  type Redis,
  type RecentFailure,
} from '@smsfleet/queue';

/** How far back the sparkline and the window figures (delivery rate, latency) look. */
export const WINDOW_BUCKETS = 60; // 60 x 5 s = 5 minutes

export interface GatewayRow {
  id: number;
  name: string;
  paused: boolean;
  /** Chunks (BullMQ jobs) per state, read from Redis: right across replicas. */
  jobs: { waiting: number; delayed: number; active: number; failed: number; prioritized: number };
  /** Messages accepted and not yet submitted or failed (fleet-wide Redis counters). */
  pendingMessages: number;
  /** Messages per second handed to the provider (or failed) in the last complete 5 s bucket. */
  rateNow: number;
  acceptedRateNow: number;
  /** msg/s per 5 s bucket, oldest first, the current partial bucket excluded. */
  spark: number[];
  window: {
    accepted: number;
    submitted: number;
    failed: number;
    retried: number;
    throttled: number;
    finals: Record<string, number>;
    finalTotal: number;
    /** Share of final states that are `delivered` (0..1; null without finals). */
    deliveredRate: number | null;
    /** Share ending `delivered` or `unknown` (provider took it, no receipt). */
    okRate: number | null;
    e2eP50Ms: number | null;
    e2eP95Ms: number | null;
    providerP50Ms: number | null;
    providerP95Ms: number | null;
  };
  circuit: { state: string; reason: string; openUntil: number };
  smpp: { bindsUp: number; windowInUse: number } | null;
}

export interface OpsState {
  now: number;
  bucketMs: number;
  windowSeconds: number;
  gateways: GatewayRow[];
  totals: {
    waitingChunks: number;
    activeChunks: number;
    delayedChunks: number;
    failedChunks: number;
    pendingMessages: number;
    rateNow: number;
    acceptedRateNow: number;
    spark: number[];
    accepted: number;
    finalTotal: number;
    deliveredRate: number | null;
    okRate: number | null;
    e2eP50Ms: number | null;
    e2eP95Ms: number | null;
  };
  failures: RecentFailure[];
}

function sumHistogram(buckets: OpsBucket[], kind: 'e2e' | 'prov', into: number[]): void {
  for (const b of buckets)
    for (let i = 0; i < OPS_LATENCY_BOUNDS_MS.length; i++)
      into[i] = (into[i] ?? 0) + (b.counts[`${kind}:${i}`] ?? 0);
}

/**
 * Reads the dashboard's figures. Everything comes from Redis (BullMQ's own keys, the shared time
 * buckets, the circuit breaker's hashes), never from this process's memory, so every replica
 * shows the same numbers.
 */
export class OpsStateReader {
  private readonly queues = new Map<number, Queue>();
  private readonly stats: OpsStatsReader;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.stats = new OpsStatsReader(redis, prefix);
  }

  queue(gatewayId: number): Queue {
    let q = this.queues.get(gatewayId);
    if (!q) {
      q = new Queue(gatewayQueueName(gatewayId), { connection: this.redis, prefix: this.prefix });
      this.queues.set(gatewayId, q);
    }
    return q;
  }

  async read(gateways: { id: number; name: string }[], now = Date.now()): Promise<OpsState> {
    const ids = gateways.map((g) => g.id);
    const [windows, totals, circuits, failures, smpp, perGateway] = await Promise.all([
      this.stats.window(ids, WINDOW_BUCKETS + 1, now),
      this.stats.totals(ids),
      readCircuitStatuses(this.redis, this.prefix, ids),
      this.stats.recentFailures(20),
      this.stats.smppStatus(ids, now),
      Promise.all(
        gateways.map(async (g) => {
          const q = this.queue(g.id);
          const [counts, paused] = await Promise.all([
            q.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized'),
            q.isPaused(),
          ]);
          return { counts, paused };
        }),
      ),
    ]);
    const fleetE2e: number[] = [];
    const fleetSpark = new Array<number>(WINDOW_BUCKETS).fill(0);
    const fleetFinals: Record<string, number> = {};
    const rows: GatewayRow[] = gateways.map((g, i) => {
      const all = windows.get(g.id) ?? [];
      // The last bucket is still filling: rates use complete buckets only.
      const complete = all.slice(0, -1);
      const lastFull = complete[complete.length - 1]?.counts ?? {};
      const perSec = (c: Record<string, number>) =>
        ((c.submitted ?? 0) + (c.failed ?? 0)) / (OPS_BUCKET_MS / 1000);
      const spark = complete.map((b) => perSec(b.counts));
      spark.forEach((v, k) => (fleetSpark[k] = (fleetSpark[k] ?? 0) + v));
      const w = { accepted: 0, submitted: 0, failed: 0, retried: 0, throttled: 0 };
      const finals: Record<string, number> = {};
      for (const b of all) {
        for (const [k, v] of Object.entries(b.counts)) {
          if (k in w) w[k as keyof typeof w] += v;
          else if (k.startsWith('final:')) finals[k.slice(6)] = (finals[k.slice(6)] ?? 0) + v;
        }
      }
      for (const [k, v] of Object.entries(finals)) fleetFinals[k] = (fleetFinals[k] ?? 0) + v;
      const finalTotal = Object.values(finals).reduce((a, b) => a + b, 0);
      const e2e: number[] = [];
      const prov: number[] = [];
      sumHistogram(all, 'e2e', e2e);
      sumHistogram(all, 'prov', prov);
      sumHistogram(all, 'e2e', fleetE2e);
      const t = totals.get(g.id) ?? { accepted: 0, dispatched: 0 };
      const { counts, paused } = perGateway[i]!;
      const c = circuits[i];
      return {
        id: g.id,
        name: g.name,
        paused,
        jobs: {
          waiting: counts.waiting ?? 0,
          delayed: counts.delayed ?? 0,
          active: counts.active ?? 0,
          failed: counts.failed ?? 0,
          prioritized: counts.prioritized ?? 0,
        },
        pendingMessages: Math.max(0, t.accepted - t.dispatched),
        rateNow: perSec(lastFull),
        acceptedRateNow: (lastFull.accepted ?? 0) / (OPS_BUCKET_MS / 1000),
        spark,
        window: {
          ...w,
          finals,
          finalTotal,
          deliveredRate: finalTotal ? (finals.delivered ?? 0) / finalTotal : null,
          okRate: finalTotal ? ((finals.delivered ?? 0) + (finals.unknown ?? 0)) / finalTotal : null,
          e2eP50Ms: latencyQuantileMs(e2e, 0.5) ?? null,
          e2eP95Ms: latencyQuantileMs(e2e, 0.95) ?? null,
          providerP50Ms: latencyQuantileMs(prov, 0.5) ?? null,
          providerP95Ms: latencyQuantileMs(prov, 0.95) ?? null,
        },
        circuit: { state: c?.state ?? 'closed', reason: c?.reason ?? '', openUntil: c?.openUntil ?? 0 },
        smpp: smpp.get(g.id) ?? null,
      };
    });
    const fleetFinalTotal = Object.values(fleetFinals).reduce((a, b) => a + b, 0);
    const sum = (f: (r: GatewayRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    return {
      now,
      bucketMs: OPS_BUCKET_MS,
      windowSeconds: (WINDOW_BUCKETS * OPS_BUCKET_MS) / 1000,
      gateways: rows,
      totals: {
        waitingChunks: sum((r) => r.jobs.waiting + r.jobs.prioritized),
        activeChunks: sum((r) => r.jobs.active),
        delayedChunks: sum((r) => r.jobs.delayed),
        failedChunks: sum((r) => r.jobs.failed),
        pendingMessages: sum((r) => r.pendingMessages),
        rateNow: sum((r) => r.rateNow),
        acceptedRateNow: sum((r) => r.acceptedRateNow),
        spark: fleetSpark,
        accepted: sum((r) => r.window.accepted),
        finalTotal: fleetFinalTotal,
        deliveredRate: fleetFinalTotal ? (fleetFinals.delivered ?? 0) / fleetFinalTotal : null,
        okRate: fleetFinalTotal
          ? ((fleetFinals.delivered ?? 0) + (fleetFinals.unknown ?? 0)) / fleetFinalTotal
          : null,
        e2eP50Ms: latencyQuantileMs(fleetE2e, 0.5) ?? null,
        e2eP95Ms: latencyQuantileMs(fleetE2e, 0.95) ?? null,
      },
      failures,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
