import { isSmppUrl, parseSmppUrl, type Transport } from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import {
  RedisBindLeaser,
  SmppTransport,
  type BindEvent,
  type DeliverEvent,
  type SegmentRateLimiter,
} from '@smsfleet/smpp';
import type { Redis } from '@smsfleet/queue';

export { isSmppUrl };

/** What an SMPP gateway needs from the dispatcher beyond its URL. All optional (tests, CLI). */
export interface SmppContext {
  /** Bind slots are Redis leases under `${prefix}:smpp:bind:<gateway>:<slot>`. */
  redis?: Redis;
  prefix?: string;
  /** Segments per second across replicas (the `mps` SMPP parameter). */
  rateLimiter?: SegmentRateLimiter;
  /** Receipts and MO from receiving binds; the deliver_sm is answered once this settles. */
  onDeliver?: (e: DeliverEvent) => Promise<void>;
  onBindEvent?: (gatewayId: number, e: BindEvent) => void;
}

/**
 * The SMPP branch of the transport factory: the URL merged over the `smpp_*` global keys
 * (`smpp_allparameters` too), validated, and turned into a transport whose binds are leased
 * across every dispatcher replica.
 */
export function createSmppTransport(
  gw: { id: number; url: string },
  cfg: ConfigSnapshot,
  ctx: SmppContext = {},
): Transport | { error: string } {
  try {
    const config = parseSmppUrl(gw.url, { globals: cfg as unknown as Record<string, unknown> });
    return new SmppTransport({
      gatewayId: gw.id,
      config,
      leaser: ctx.redis ? new RedisBindLeaser(ctx.redis, ctx.prefix ?? 'sf', gw.id) : undefined,
      rateLimiter: ctx.rateLimiter,
      onDeliver: ctx.onDeliver,
      onBindEvent: ctx.onBindEvent ? (e) => ctx.onBindEvent?.(gw.id, e) : undefined,
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
}
