import { sleep, type GatewayRateLimiter } from '@smsfleet/queue';

/**
 * Hands out send slots for one gateway at its messages-per-second limit, shared across every
 * dispatcher replica through the Redis limiter. Slots are reserved in small blocks (about 50 ms
 * worth) so a fast gateway costs one Redis round trip per block, not per message; each message
 * waits for its own slot inside the block, so sends are spread evenly, never bunched.
 */
export class RatePacer {
  /** Slot times (performance.now() ms) reserved and not yet used, oldest first. */
  private slots: number[] = [];
  private reserving: Promise<void> | undefined;
  private waiters = 0;

  constructor(
    private readonly limiter: GatewayRateLimiter,
    private readonly gatewayId: number,
    private readonly perSecond: number,
  ) {}

  get rate(): number {
    return this.perSecond;
  }

  async take(signal?: AbortSignal): Promise<void> {
    this.waiters++;
    try {
      for (;;) {
        const now = performance.now();
        // A slot older than one block is dropped, not used late: late use would bunch sends.
        while (this.slots.length && this.slots[0]! < now - 50) this.slots.shift();
        const slot = this.slots.shift();
        if (slot !== undefined) {
          if (slot > now + 1) await sleep(slot - now, signal);
          return;
        }
        this.reserving ??= this.reserve().finally(() => {
          this.reserving = undefined;
        });
        await this.reserving;
      }
    } finally {
      this.waiters--;
    }
  }

  private async reserve(): Promise<void> {
    const block = Math.max(1, Math.min(this.waiters, Math.ceil(this.perSecond / 20)));
    const r = await this.limiter.reserve(this.gatewayId, block, this.perSecond);
    const first = performance.now() + r.waitMs;
    for (let i = 0; i < block; i++) this.slots.push(first + i * r.intervalMs);
  }
}
