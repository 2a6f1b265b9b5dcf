import { nextRoute, seededRandom, type Chunk, type OutboundSms, type SmsEvent } from '@smsfleet/core';
import type { RoutingTables } from '@smsfleet/db';
import type { Logger } from '@smsfleet/runtime';

export interface FailoverDeps {
  /** The routing tables in memory (LiveTable.current). */
  tables(): RoutingTables;
  /** `smsrouting` and `smsroutemaxtries` of the current config snapshot. */
  settings(): { smsrouting: number; smsroutemaxtries: number };
  /** Queues chunks on their gateways' queues (ChunkProducer.addChunks). */
  addChunks(chunks: Chunk[]): Promise<void>;
  log: Logger;
  onRerouted?(fromGatewayId: number, toGatewayId: number, n: number): void;
}

/**
 * Failover (routing issue), kept apart from the send processor: a message that ended `failed` on
 * a gateway (permanent rejection, or temporary failures past its retry budget) moves to the next
 * gateway of its route plan instead, as a new chunk on that gateway's queue with a fresh retry
 * budget, its history in `msg.route`. Up to `smsroutemaxtries` gateways per message; after that,
 * or with no further route, it stays failed.
 *
 * The choice is deterministic (seeded by smsid and history) and the chunk ids derive from the
 * failed chunk's id, so re-running a chunk after a crash re-queues the same chunks (BullMQ
 * ignores a job id it already holds) rather than sending a message twice.
 */
export function createFailover(deps: FailoverDeps) {
  return async function failover(chunk: Chunk, failed: SmsEvent[]): Promise<SmsEvent[]> {
    if (failed.length === 0) return failed;
    const { smsrouting, smsroutemaxtries } = deps.settings();
    // Gateway 0 is the global smsurl: no routing table behind it.
    if (chunk.gatewayId === 0 || smsrouting === 0 || smsroutemaxtries <= 1) return failed;
    const t = deps.tables();
    const enabled = new Set(t.gateways);
    const usable = (id: number) => enabled.has(id);
    const stay: SmsEvent[] = [];
    const moved = new Map<number, OutboundSms[]>();
    for (const e of failed) {
      const m = e.msg;
      const tried = [...(m.route?.tried ?? []), chunk.gatewayId];
      const attempt = m.route?.attempt ?? 1;
      const next =
        attempt < smsroutemaxtries
          ? nextRoute(
              t.routes,
              { to: m.to, from: m.from, userId: m.userId, userGroup: t.packets.get(m.userId) },
              tried,
              seededRandom(`${m.smsid}:${tried.join(',')}`),
              usable,
            )
          : undefined;
      if (next === undefined) {
        stay.push(attempt > 1 ? { ...e, reason: `${e.reason ?? 'failed'} (after ${attempt} routes)` } : e);
        continue;
      }
      const rerouted: OutboundSms = { ...m, gatewayId: next, route: { tried, attempt: attempt + 1 } };
      const list = moved.get(next);
      if (list) list.push(rerouted);
      else moved.set(next, [rerouted]);
      deps.log.info(
        {
          smsid: m.smsid,
          gatewayId: chunk.gatewayId,
          state: 'rerouted',
          nextGatewayId: next,
          route: attempt + 1,
          reason: e.reason,
        },
        'sms state',
      );
    }
    if (moved.size) {
      const chunks: Chunk[] = [...moved].map(([gatewayId, messages]) => ({
        chunkId: `${chunk.chunkId}>${gatewayId}`,
        gatewayId,
        messages,
        attempt: 1,
      }));
      // Queued before the remaining failures are published: a crash in between re-runs the chunk
      // and re-adds the same job ids (no-op) instead of losing the rerouted messages.
      await deps.addChunks(chunks);
      for (const c of chunks) deps.onRerouted?.(chunk.gatewayId, c.gatewayId, c.messages.length);
    }
    return stay;
  };
}

export type Failover = ReturnType<typeof createFailover>;
