import type { EventBus } from '@smsfleet/bus';
import type { ConfigSnapshot } from '@smsfleet/config';
import { chooseRoute, rateSms } from '@smsfleet/core';
import { LiveTable, loadRoutingTables, type Knex, type RoutingTables } from '@smsfleet/db';
import type { Logger } from '@smsfleet/runtime';
import type { GatewayRef } from './api-context.js';

/**
 * Routing rules, prices, price packets and the enabled SMS GW users in memory for the accept
 * path: reloaded on `routes` / `prices` / `gateways` / `users` notifications (sent by the CLI)
 * and every few seconds, never queried per message.
 */
export class RoutingCache {
  private constructor(private readonly table: LiveTable<RoutingTables>) {}

  static async start(db: Knex, bus: EventBus, log: Logger, pollMs = 5_000): Promise<RoutingCache> {
    const table = await new LiveTable({
      load: () => loadRoutingTables(db),
      subscribe: (cb) => {
        const subs = ['routes', 'prices', 'gateways', 'users'].map((t) => bus.onNotify(t, cb));
        return () => subs.forEach((u) => u());
      },
      pollMs,
      onError: (err) => log.error({ err: (err as Error).message }, 'routing table refresh failed'),
    }).start();
    return new RoutingCache(table);
  }

  chooseGateway(
    cfg: Pick<ConfigSnapshot, 'smsrouting' | 'smsurl'>,
    msg: { to: string; from: string; userId: number },
  ): GatewayRef | undefined {
    const t = this.table.current();
    const id = chooseRoute(
      { smsrouting: cfg.smsrouting, hasGlobalGateway: Boolean(cfg.smsurl), gateways: t.gateways },
      t.routes,
      { ...msg, userGroup: t.packets.get(msg.userId) },
      Math.random,
    );
    if (id === undefined) return undefined;
    return { id, name: id === 0 ? 'smsurl' : (t.gatewayNames.get(id) ?? `gw${id}`) };
  }

  rate(cfg: Pick<ConfigSnapshot, 'smsprice'>, msg: { to: string; userId: number; segments: number }): string {
    const t = this.table.current();
    return rateSms(t.prices, { ...msg, packet: t.packets.get(msg.userId) }, cfg.smsprice).cost;
  }

  refresh(): Promise<void> {
    return this.table.refresh();
  }

  close(): void {
    this.table.close();
  }
}
