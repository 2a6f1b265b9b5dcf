import { compilePrices, compileRoutes, type PriceTable, type RouteTable } from '@smsfleet/core';
import type { Knex } from 'knex';
import { PricesRepo } from './prices-repo.js';
import { RoutesRepo } from './routes-repo.js';
import { UsersRepo } from './users-repo.js';

/** Everything routing and rating need, loaded in one go and compiled for the hot path. */
export interface RoutingTables {
  routes: RouteTable;
  prices: PriceTable;
  /** Enabled SMS GW user ids, ascending. */
  gateways: number[];
  /** Enabled SMS GW user id -> name. */
  gatewayNames: Map<number, string>;
  /** User id -> price packet (also the routing group). */
  packets: Map<number, string>;
}

export async function loadRoutingTables(db: Knex): Promise<RoutingTables> {
  const [routes, prices, gws, packets] = await Promise.all([
    new RoutesRepo(db).active(),
    new PricesRepo(db).list(),
    new UsersRepo(db).listGateways(),
    new PricesRepo(db).userPackets(),
  ]);
  return {
    routes: compileRoutes(routes),
    prices: compilePrices(prices),
    gateways: gws.filter((g) => g.enabled).map((g) => g.id),
    gatewayNames: new Map(gws.filter((g) => g.enabled).map((g) => [g.id, g.name])),
    packets,
  };
}
