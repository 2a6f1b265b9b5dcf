import type { Knex } from 'knex';
import type { RoutePatternType, RouteRule } from '@smsfleet/core';

export interface StoredRoute extends RouteRule {
  enabled: boolean;
  createdAt: Date;
}

export type NewRoute = Omit<RouteRule, 'id'>;

interface RouteRow {
  id: number;
  pattern_type: string;
  pattern: string;
  gateway_id: number;
  priority: number;
  weight: number;
  sender_prefix: string | null;
  user_id: number | null;
  user_group: string | null;
  enabled: number;
  created_at: Date;
}

function toRoute(r: RouteRow): StoredRoute {
  return {
    id: Number(r.id),
    patternType: r.pattern_type as RoutePatternType,
    pattern: r.pattern,
    gatewayId: Number(r.gateway_id),
    priority: Number(r.priority),
    weight: Number(r.weight),
    senderPrefix: r.sender_prefix,
    userId: r.user_id === null ? null : Number(r.user_id),
    userGroup: r.user_group,
    enabled: Boolean(r.enabled),
    createdAt: r.created_at,
  };
}

/** Routing rules of service type SMS (validation is the caller's: core's validateRouteRule). */
export class RoutesRepo {
  constructor(private readonly db: Knex) {}

  async add(r: NewRoute): Promise<StoredRoute> {
    const [id] = await this.db('routes').insert({
      service_type: 'SMS',
      pattern_type: r.patternType,
      pattern: r.pattern,
      gateway_id: r.gatewayId,
      priority: r.priority,
      weight: r.weight,
      sender_prefix: r.senderPrefix || null,
      user_id: r.userId || null,
      user_group: r.userGroup || null,
    });
    const row = (await this.db('routes').where({ id }).first()) as RouteRow;
    return toRoute(row);
  }

  /** Every SMS rule, enabled or not, by priority. */
  async list(): Promise<StoredRoute[]> {
    const rows = (await this.db('routes')
      .where({ service_type: 'SMS' })
      .orderBy([{ column: 'priority' }, { column: 'id' }])) as RouteRow[];
    return rows.map(toRoute);
  }

  /** The rules the router uses: enabled ones only. */
  async active(): Promise<RouteRule[]> {
    return (await this.list()).filter((r) => r.enabled);
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db('routes').where({ id, service_type: 'SMS' }).delete()) > 0;
  }
}
