/**
 * What the transport needs from a rate limiter; `GatewayRateLimiter` of @smsfleet/queue (Redis,
 * across replicas) fits it. The local one below serves a single process (gateway test, bench).
 */
export interface SegmentRateLimiter {
  acquire(key: number | string, tokens: number, perSecond: number, signal?: AbortSignal): Promise<void>;
}

/** GCRA in memory: reserves tokens and waits until the first may go, spacing the rest. */
export class LocalRateLimiter implements SegmentRateLimiter {
  private readonly tat = new Map<string, number>();

  async acquire(
    key: number | string,
    tokens: number,
    perSecond: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!(perSecond > 0) || tokens <= 0) return;
    const interval = 1000 / perSecond;
    const now = performance.now();
    const k = String(key);
    const start = Math.max(this.tat.get(k) ?? now, now);
    this.tat.set(k, start + tokens * interval);
    const wait = start - now + (tokens - 1) * interval;
    if (wait >= 1) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      });
    }
  }
}
